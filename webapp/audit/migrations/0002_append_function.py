from django.db import migrations

# PostgreSQL: append one event in one statement. The chain lock is held from here to commit, so
# the less happens after it, the less every other writer waits: the function takes the lock, reads
# the head (a VOLATILE plpgsql function gives each query a fresh snapshot under READ COMMITTED, so
# the head includes what the previous lock holder committed), chains the hash exactly as
# webapp.audit.models.chain_hash does, and inserts.
FORWARD = """
CREATE OR REPLACE FUNCTION audit_append(
    lock_key bigint, body_digest text, at_ timestamptz, actor_id_ bigint, actor_label_ text, action_ text,
    object_type_ text, object_id_ text, project_id_ bigint, request_id_ text, ip_ text, payload_ jsonb
) RETURNS TABLE (event_id bigint, event_seq bigint, event_prev_hash text, event_hash text) AS $$
DECLARE
    last_seq bigint;
    last_hash text;
BEGIN
    PERFORM pg_advisory_xact_lock(lock_key);
    SELECT e.seq, e.hash INTO last_seq, last_hash FROM audit_auditevent e ORDER BY e.seq DESC LIMIT 1;
    event_seq := COALESCE(last_seq, 0) + 1;
    event_prev_hash := COALESCE(last_hash, repeat('0', 64));
    event_hash := encode(sha256(convert_to(event_seq::text || ':' || event_prev_hash || ':' || body_digest, 'UTF8')), 'hex');
    INSERT INTO audit_auditevent (seq, at, actor_id, actor_label, action, object_type, object_id, project_id,
                                  request_id, ip, payload, prev_hash, hash)
    VALUES (event_seq, at_, actor_id_, actor_label_, action_, object_type_, object_id_, project_id_,
            request_id_, ip_, payload_, event_prev_hash, event_hash)
    RETURNING id INTO event_id;
    RETURN NEXT;
END $$ LANGUAGE plpgsql VOLATILE;
"""
REVERSE = "DROP FUNCTION IF EXISTS audit_append(bigint, text, timestamptz, bigint, text, text, text, text, bigint, text, text, jsonb);"


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORWARD)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(REVERSE)


class Migration(migrations.Migration):
    dependencies = [("audit", "0001_initial")]
    operations = [migrations.RunPython(forward, backward)]
