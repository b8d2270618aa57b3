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


def test_import_lookups_are_never_prepared_and_references_are_checked_as_rows_arrive(world):
    # A prepared lookup may settle on a generic plan made while the tables were small: a sequential
    # scan of the whole growing table per chunk (quadratic). plan_cache_mode = force_custom_plan
    # avoided that but also re-planned each of the eight foreign-key checks per pair.
    from django.db import connection

    from webapp.comparisons.models import Comparison

    for _ in range(8):  # over psycopg's prepare threshold (5)
        sql.rows_matching(Comparison, ("content_hash",), where={"project_id": world.project.pk},
                          any_of=("content_hash", ["0" * 64, "1" * 64]))
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE %s",
                       ["%content_hash = ANY%"])
        assert cursor.fetchone()[0] == 0
        sql.check_references_as_rows_arrive()
        cursor.execute("SHOW plan_cache_mode")
        assert cursor.fetchone()[0] == "auto"
        # a comparison naming a prompt that does not exist fails at once, not at COMMIT
        cursor.execute("SAVEPOINT early")
        try:
            cursor.execute("INSERT INTO comparisons_response (prompt_id, text, html, model_name, generation, "
                           "content_hash) VALUES (-1, '', '', '', '{}', 'x')")
        except Exception as error:  # psycopg's ForeignKeyViolation, as Django's IntegrityError
            assert "foreign key" in str(error)
        else:
            raise AssertionError("the foreign key was not checked when the row arrived")
        finally:
            cursor.execute("ROLLBACK TO SAVEPOINT early")
