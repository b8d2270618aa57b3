"""Set up a fresh PostgreSQL database for bench/rater_load.py and print how to serve it.

    .venv/bin/python bench/prepare.py --raters 32 --comparisons 3000 --tokens var/bench/tokens.txt

Creates database wb_bench_<timestamp> (or --db-name) through --admin-url, migrates it, creates
project `bench` (overlap 3, binary_tie), publishes a guideline, imports synthetic comparisons
and creates rater users who have acknowledged the guideline; writes their API tokens to --tokens,
one per line. It starts nothing.
"""
import argparse
import json
import os
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from pgstats import vacuum_analyze_filled_tables

ROOT = Path(__file__).resolve().parent.parent
FILLER = ("The answer follows from the definition. First restate the question, then check each step "
          "against the numbers given, and finally say what the result means for the person asking. ")


def database_url_for(admin_url: str, name: str) -> str:
    parts = urlsplit(admin_url)
    return urlunsplit(parts._replace(path="/" + name))


def create_database(admin_url: str, name: str) -> None:
    import psycopg
    from psycopg import sql

    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def comparisons_jsonl(n: int, *, text_chars: int) -> bytes:
    """Workbench-format JSON Lines: one prompt, two markdown responses of about `text_chars` each."""
    pad = (FILLER * (text_chars // len(FILLER) + 1))[:text_chars]
    lines = (
        json.dumps({
            "prompt": [{"role": "user", "content": f"Question {i}: what is {i} + {i}? Explain briefly."}],
            "response_a": {"text": f"It is **{2 * i}**.\n\n{pad}", "model": "model-a"},
            "response_b": {"text": f"I think it is {2 * i + 1}.\n\n- {pad}", "model": "model-b"},
            "gold": "a", "id": f"bench-{i}",
        })
        for i in range(n)
    )
    return ("\n".join(lines) + "\n").encode()


def populate(*, slug: str, overlap: int, scale: str, n_comparisons: int, n_raters: int, text_chars: int) -> list[str]:
    """Create project, guideline, comparisons and acknowledged raters through the services; return tokens."""
    from webapp.accounts.services import token_create, user_create
    from webapp.comparisons.imports import import_file
    from webapp.guidelines.services import guideline_acknowledge, guideline_publish
    from webapp.projects.services import membership_add, project_create

    lead = user_create(username="bench-lead", role="lead")
    project = project_create(slug=slug, name="Rater load bench", actor=lead, overlap=overlap, scale=scale)
    version = guideline_publish(project=project, body_md="# Rules\n\nPick the more helpful, correct answer.",
                                change_note="bench", author=lead)
    batch = import_file(project=project, data=comparisons_jsonl(n_comparisons, text_chars=text_chars),
                        file_name="bench.jsonl", actor=lead)
    print(f"imported {batch.created_count} comparisons into {slug}", flush=True)
    tokens = []
    for i in range(n_raters):
        rater = user_create(username=f"bench-rater{i:03d}", role="rater")
        membership_add(project=project, user=rater, actor=lead)
        guideline_acknowledge(user=rater, project=project, number=version.number)
        tokens.append(token_create(user=rater))
    return tokens


def analyze() -> None:
    # Fresh tables have no statistics until autovacuum gets to them; without these the planner
    # scans all of a project's assignments on every next-task call and the first runs mis-measure.
    # Empty tables stay unanalyzed (bench/pgstats.py says why).
    from django.db import connection

    with connection.cursor() as cursor:
        vacuum_analyze_filled_tables(cursor)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--admin-url", default=os.environ.get("WB_BENCH_ADMIN_URL", "postgres://postgres@127.0.0.1:5432/postgres"),
                        help="PostgreSQL URL of a role that may CREATE DATABASE")
    parser.add_argument("--db-name", default=f"wb_bench_{time.strftime('%Y%m%d_%H%M%S')}")
    parser.add_argument("--project", default="bench")
    parser.add_argument("--overlap", type=int, default=3)
    parser.add_argument("--scale", default="binary_tie")
    parser.add_argument("--comparisons", type=int, default=3000)
    parser.add_argument("--text-chars", type=int, default=400, help="approximate length of each response")
    parser.add_argument("--raters", type=int, default=32)
    parser.add_argument("--tokens", type=Path, default=ROOT / "var" / "bench" / "tokens.txt")
    args = parser.parse_args()

    url = database_url_for(args.admin_url, args.db_name)
    create_database(args.admin_url, args.db_name)
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "webapp.settings")
    sys.path.insert(0, str(ROOT))
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0, interactive=False)
    tokens = populate(slug=args.project, overlap=args.overlap, scale=args.scale, n_comparisons=args.comparisons,
                      n_raters=args.raters, text_chars=args.text_chars)
    analyze()
    args.tokens.parent.mkdir(parents=True, exist_ok=True)
    args.tokens.write_text("\n".join(tokens) + "\n")
    args.tokens.chmod(0o600)

    print(f"""
database   {url}
tokens     {args.tokens} ({len(tokens)} raters)

start the server (in another shell, from {ROOT}):
  DATABASE_URL={url} .venv/bin/gunicorn webapp.wsgi -c webapp/gunicorn.conf.py \\
      -b 127.0.0.1:8001 --pid var/bench/gunicorn.pid

then run the load:
  .venv/bin/python bench/rater_load.py --url http://127.0.0.1:8001 --project {args.project} \\
      --tokens {args.tokens} --raters {len(tokens)} --duration 20 --database-url {url} \\
      --server-pid var/bench/gunicorn.pid

drop it afterwards:
  psql {args.admin_url} -c 'DROP DATABASE {args.db_name}'""")


if __name__ == "__main__":
    main()
