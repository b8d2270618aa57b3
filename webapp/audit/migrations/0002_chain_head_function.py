from django.db import migrations

# PostgreSQL: take the chain lock and read the chain's head in one round trip. A VOLATILE
# plpgsql function gives each of its queries a fresh snapshot (READ COMMITTED), so the head read
# after the lock includes the event the previous lock holder committed.
FORWARD = """
CREATE OR REPLACE FUNCTION audit_chain_head_locked(lock_key bigint) RETURNS TABLE (seq bigint, hash text) AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(lock_key);
    RETURN QUERY SELECT e.seq::bigint, e.hash::text FROM audit_auditevent e ORDER BY e.seq DESC LIMIT 1;
END $$ LANGUAGE plpgsql VOLATILE;
"""
REVERSE = "DROP FUNCTION IF EXISTS audit_chain_head_locked(bigint);"


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORWARD)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(REVERSE)


class Migration(migrations.Migration):
    dependencies = [("audit", "0001_initial")]
    operations = [migrations.RunPython(forward, backward)]
