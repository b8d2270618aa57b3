"""Database triggers that refuse UPDATE on append-only / immutable tables, whatever the client.

The ORM refuses too (model save and QuerySet.update), but a trigger also stops raw SQL,
other tools and future code paths. DELETE is left to PROTECT foreign keys and the ORM,
so that test databases can still be flushed.
"""


def refuse_updates_sql(table: str, message: str, vendor: str) -> tuple[str, str]:
    """(forward, reverse) SQL for a trigger on `table`."""
    name = f"{table}_refuse_update"
    if vendor == "postgresql":
        forward = f"""
            CREATE OR REPLACE FUNCTION {name}() RETURNS trigger AS $$
            BEGIN RAISE EXCEPTION '{message}'; END $$ LANGUAGE plpgsql;
            CREATE TRIGGER {name} BEFORE UPDATE ON {table} FOR EACH ROW EXECUTE FUNCTION {name}();
        """
        reverse = f"DROP TRIGGER IF EXISTS {name} ON {table}; DROP FUNCTION IF EXISTS {name}();"
    else:
        forward = f"CREATE TRIGGER {name} BEFORE UPDATE ON {table} BEGIN SELECT RAISE(ABORT, '{message}'); END;"
        reverse = f"DROP TRIGGER IF EXISTS {name};"
    return forward, reverse


def refuse_updates_operation(table: str, message: str):
    from django.db import migrations

    def forward(apps, schema_editor):
        sql, _ = refuse_updates_sql(table, message, schema_editor.connection.vendor)
        _execute(schema_editor, sql)

    def backward(apps, schema_editor):
        _, sql = refuse_updates_sql(table, message, schema_editor.connection.vendor)
        _execute(schema_editor, sql)

    return migrations.RunPython(forward, backward)


def _execute(schema_editor, sql: str) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(sql)
    else:
        for statement in [s for s in sql.split(";\n") if s.strip()]:
            schema_editor.execute(statement)
