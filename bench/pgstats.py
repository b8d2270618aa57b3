"""Planner statistics for benchmark databases, kept the way autovacuum would keep them.

The CI PostgreSQL runs with autovacuum off. A plain `VACUUM ANALYZE` on a fresh benchmark
database records "0 rows" for the tables the run is about to fill (assignments, judgments, audit
events); every worker connection then caches plans for tiny tables (sequential scans) and keeps
them while those tables grow by thousands of rows, so the first run after `prepare.py` measured
about 30 % slower than the next. Autovacuum never analyzes a table nobody has written to, and a
never-analyzed table makes the planner assume a few pages, which keeps index scans. So: analyze
the tables that hold rows, leave the empty ones unanalyzed.
"""


def vacuum_analyze_filled_tables(cursor) -> list[str]:
    """VACUUM ANALYZE each table of the current schema that holds rows; return their names.
    The cursor's connection must be in autocommit mode (VACUUM cannot run in a transaction)."""
    cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY tablename")
    tables = [row[0] for row in cursor.fetchall()]
    filled = []
    for table in tables:
        cursor.execute(f'SELECT EXISTS (SELECT 1 FROM "{table}")')
        if cursor.fetchone()[0]:
            cursor.execute(f'VACUUM ANALYZE "{table}"')
            filled.append(table)
    return filled
