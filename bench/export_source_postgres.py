"""The PostgreSQL source of the export benchmark: fill a fresh database with synthetic judgments,
then export them through the webapp's selector (one streamed query) and exporters.write_export.

    .venv/bin/python bench/export_source_postgres.py --judgments 100000 1000000 --k 3

For each size it creates database wb_bench_export_<n> (kept: --reuse skips the fill next time),
fills it in SQL (generate_series; realistic text lengths: ~300-character prompts, ~1,200-character
responses), then runs each export case in a fresh process and prints judgments/s, judgments per
CPU-second of that process (all its threads; PostgreSQL's own work is not in it) and its peak RSS.
bench/export_bench.py (`--source postgres`) may call fill() and run_case().
"""
import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from prepare import create_database, database_url_for  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
CASES = [  # (format, aggregate, file_format)
    ("trl-standard", "majority", "parquet"),
    ("trl-standard", "none", "parquet"),
    ("raw", "none", "parquet"),
    ("trl-conversational", "majority", "jsonl"),
    ("trl-standard", "dawid-skene", "parquet"),
]
PROMPT_PAD = "Explain your reasoning step by step and keep the answer short enough to read. " * 4
ANSWER_PAD = ("The answer follows from the definition. First restate the question, then check each step "
              "against the numbers given, and finally say what the result means for the person asking. ") * 7


def _setup_django(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "webapp.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def fill(*, n_judgments: int, k: int, n_raters: int = 60) -> None:
    """Create project `bench-export` with n_judgments / k comparisons judged k times each."""
    from django.core.management import call_command
    from django.db import connection, transaction

    from webapp.accounts.services import user_create
    from webapp.comparisons.models import ImportBatch
    from webapp.core import clock
    from webapp.guidelines.services import guideline_publish
    from webapp.projects.services import project_create

    call_command("migrate", verbosity=0)
    lead = user_create(username="bench-lead", role="lead")
    project = project_create(slug="bench-export", name="Export bench", actor=lead, overlap=k, scale="seven_point")
    version = guideline_publish(project=project, body_md="# Bench\n\nPick the better answer.", change_note="bench",
                                author=lead)
    raters = [user_create(username=f"bench-rater{i:03d}", role="rater").pk for i in range(n_raters)]
    batch = ImportBatch.objects.create(project=project, file_name="synthetic", sha256="0" * 64,
                                       requested_at=clock.now())
    n = n_judgments // k
    params = {"p": project.pk, "n": n, "k": k, "gv": version.pk, "b": batch.pk, "raters": raters,
              "prompt_pad": PROMPT_PAD, "answer_pad": ANSWER_PAD}
    steps = [
        ("prompts", """INSERT INTO comparisons_prompt (project_id, messages, messages_html, content_hash, source, metadata)
            SELECT %(p)s, jsonb_build_array(jsonb_build_object('role', 'user', 'content',
                   'Question ' || i || ': what is ' || i || ' + ' || i || '? ' || %(prompt_pad)s::text)),
                   '[]'::jsonb, md5('p' || i), 'bench', '{}'::jsonb
            FROM generate_series(1, %(n)s) i"""),
        ("responses", """INSERT INTO comparisons_response (prompt_id, text, html, model_name, generation, content_hash)
            SELECT p.id, side || ': it is ' || (p.id * 2 + (side = 'b')::int) || '. ' || left(%(answer_pad)s::text,
                   (600 + (p.id * 37 %% 1200))::int), '', 'model-' || side, '{}'::jsonb, md5(side || p.id)
            FROM comparisons_prompt p CROSS JOIN (VALUES ('a'), ('b')) s(side) WHERE p.project_id = %(p)s"""),
        ("comparisons", """INSERT INTO comparisons_comparison (project_id, prompt_id, response_a_id, response_b_id,
                   gold, metadata, external_id, content_hash, batch_id, taken, judged, round, created_at)
            SELECT %(p)s, p.id, ra.id, rb.id, '', '{}'::jsonb, '', md5('c' || p.id), %(b)s, %(k)s, %(k)s, 1, now()
            FROM comparisons_prompt p
            JOIN comparisons_response ra ON ra.prompt_id = p.id AND ra.model_name = 'model-a'
            JOIN comparisons_response rb ON rb.prompt_id = p.id AND rb.model_name = 'model-b'
            WHERE p.project_id = %(p)s"""),
        ("assignments", """INSERT INTO comparisons_assignment (project_id, comparison_id, rater_id, status, round,
                   guideline_version_id, seed, served_at, expires_at, finished_at, skip_reason)
            SELECT %(p)s, c.id, (%(raters)s::bigint[])[1 + ((c.id * 7 + r) %% cardinality(%(raters)s::bigint[]))],
                   'submitted', 1, %(gv)s, c.id * 10 + r, now(), now(), now(), ''
            FROM comparisons_comparison c CROSS JOIN generate_series(0, %(k)s - 1) r WHERE c.project_id = %(p)s"""),
        ("judgments", """INSERT INTO comparisons_judgment (assignment_id, comparison_id, rater_id, guideline_version_id,
                   choice, choice_displayed, display_order, strength, rationale, flags, served_at, submitted_at,
                   active_ms, idempotency_key, supersedes_id)
            SELECT a.id, a.comparison_id, a.rater_id, a.guideline_version_id,
                   (ARRAY['a', 'a', 'b', 'a', 'b', 'tie'])[1 + (a.seed * 2654435761 %% 6)], 'left',
                   CASE WHEN a.seed %% 2 = 0 THEN 'AB' ELSE 'BA' END, 1 + (a.seed %% 3), '', '[]'::jsonb,
                   now(), now(), 5000 + (a.seed %% 20000), 'bench-' || a.id, NULL
            FROM comparisons_assignment a WHERE a.project_id = %(p)s"""),
    ]
    for name, statement in steps:
        started = time.monotonic()
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(statement, params)
        print(f"  filled {name} in {time.monotonic() - started:.1f} s", flush=True)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def run_case(fmt: str, aggregate: str, file_format: str) -> dict:
    """Export project bench-export through the selector and write_export; return the figures."""
    import pyarrow as pa

    from exporters import write_export
    from webapp.exports import selectors, services
    from webapp.projects.models import Project

    project = Project.objects.get(slug="bench-export")
    request, filters = services.parse_export({"format": fmt, "aggregate": aggregate, "file_format": file_format},
                                             project=project)
    total, _ = selectors.selection_counts(project, filters)
    # What a worker has imported after its first export: pyarrow imports pandas at its first
    # pa.array (0.15-0.2 s, once per process), which would otherwise count as export time here.
    pa.array([""])
    with tempfile.TemporaryDirectory(prefix="wb-export-bench-") as tmp:
        started, cpu_started = time.monotonic(), time.process_time()
        manifest = write_export(selectors.export_groups(project, filters), request, Path(tmp) / "out",
                                total_judgments=total)
        seconds, cpu_seconds = time.monotonic() - started, time.process_time() - cpu_started
        size = sum(f.stat().st_size for f in (Path(tmp) / "out").rglob("*") if f.is_file())
    return {"format": fmt, "aggregate": aggregate, "file_format": file_format,
            "judgments": manifest["counts"]["judgments_read"], "rows": manifest["counts"]["rows_written"],
            "seconds": round(seconds, 2), "judgments_per_s": round(manifest["counts"]["judgments_read"] / seconds),
            "cpu_seconds": round(cpu_seconds, 2),
            "judgments_per_cpu_s": round(manifest["counts"]["judgments_read"] / cpu_seconds),
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024), "bytes": size}


def postgres_source(n_judgments: int, k: int, seed: int):
    """bench/export_bench.py's `--source postgres`: the webapp's selector (one streamed query) over
    database wb_bench_export_<n>_k<k>, filled first (in another process) when it does not exist."""
    admin_url = os.environ.get("WB_BENCH_ADMIN_URL", "postgres://postgres@127.0.0.1:5432/postgres")
    name = f"wb_bench_export_{n_judgments}_k{k}"
    url = database_url_for(admin_url, name)
    if not _exists(admin_url, name):
        create_database(admin_url, name)
        _fill_in_child(url, n_judgments, k)
    _setup_django(url)
    from webapp.exports import selectors
    from webapp.projects.models import Project

    project = Project.objects.get(slug="bench-export")
    filters = selectors.parse_filters({}, project=project)
    total, comparisons = selectors.selection_counts(project, filters)
    return (selectors.export_groups(project, filters), total,
            f"postgres {name}: selector over {comparisons} comparisons x {k}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--judgments", type=int, nargs="+", default=[100_000])
    parser.add_argument("--k", type=int, default=3)
    parser.add_argument("--admin-url", default=os.environ.get("WB_BENCH_ADMIN_URL",
                                                              "postgres://postgres@127.0.0.1:5432/postgres"))
    parser.add_argument("--reuse", action="store_true", help="skip the fill when the database exists")
    parser.add_argument("--cases", default="all", help="comma-separated case numbers (0-based) or 'all'")
    parser.add_argument("--run-case", nargs=3, metavar=("FORMAT", "AGGREGATE", "FILE_FORMAT"), help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.run_case:  # a child process: one case, figures as JSON on stdout
        _setup_django(args.url)
        print(json.dumps(run_case(*args.run_case)))
        return
    cases = CASES if args.cases == "all" else [CASES[int(i)] for i in args.cases.split(",")]
    for n in args.judgments:
        name = f"wb_bench_export_{n}"
        url = database_url_for(args.admin_url, name)
        if not (args.reuse and _exists(args.admin_url, name)):
            _drop(args.admin_url, name)
            create_database(args.admin_url, name)
            print(f"filling {name}: {n} judgments, k={args.k}", flush=True)
            _fill_in_child(url, n, args.k)
        for fmt, aggregate, file_format in cases:
            out = subprocess.run([sys.executable, __file__, "--run-case", fmt, aggregate, file_format, "--url", url],
                                 check=True, capture_output=True, text=True).stdout.strip().splitlines()[-1]
            r = json.loads(out)
            print(f"{n:>9} judgments  {fmt:<19} {aggregate:<12} {file_format:<8} {r['judgments_per_s']:>9,} judgments/s"
                  f"  {r['seconds']:>7.1f} s  {r['judgments_per_cpu_s']:>9,} per CPU-s  peak RSS {r['peak_rss_mb']:>5} MB  rows {r['rows']:,}", flush=True)


def _fill_in_child(url: str, n: int, k: int) -> None:
    code = (f"import sys; sys.path.insert(0, {str(Path(__file__).parent)!r}); import export_source_postgres as e; "
            f"e._setup_django({url!r}); e.fill(n_judgments={n}, k={k})")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


def _exists(admin_url: str, name: str) -> bool:
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as conn:
        return conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone() is not None


def _drop(admin_url: str, name: str) -> None:
    import psycopg
    from psycopg import sql

    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))


if __name__ == "__main__":
    main()
