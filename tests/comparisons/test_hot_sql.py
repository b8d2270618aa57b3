"""The rater path's statements keep the shape the indexes need (bench/README.md, rater load)."""
from webapp.comparisons import sql
from webapp.comparisons.models import Assignment


def test_live_lease_lookup_names_the_status_the_partial_index_covers():
    # psycopg prepares hot statements and PostgreSQL then caches a generic plan: a partial index is
    # usable only when the statement itself states the index's condition. With `status = %s` the
    # lookup became a scan of the whole assignment table (2-3 ms per next-task call at 9k rows).
    (index,) = [i for i in Assignment._meta.indexes if i.name == "assignment_live_leases"]
    assert index.condition.children == [("status", Assignment.Status.LEASED.value)]
    assert f"status = '{Assignment.Status.LEASED.value}'" in sql.LIVE_LEASE_SQL
    assert "status = %s" not in sql.LIVE_LEASE_SQL
    assert sql.LIVE_LEASE_SQL in sql._GATE
