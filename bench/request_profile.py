"""Where one next → submit pair spends its time, in-process (no HTTP server, no concurrency).

    DATABASE_URL=postgres://... .venv/bin/python bench/request_profile.py --tokens var/bench/tokens.txt \\
        --project bench --pairs 200 [--cprofile 25] [--sql]

Calls the WSGI application directly, so the full middleware stack runs as under gunicorn.
Prints mean wall and CPU time per call, queries per call and their total database time, and
optionally the top functions by cumulative time (cProfile) and the SQL of one pair.
Use a database prepared by bench/prepare.py: it writes judgments.
"""
import argparse
import cProfile
import io
import json
import os
import pstats
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def environ_for(path: str, token: str, body: bytes = b"", headers: dict | None = None) -> dict:
    env = {
        "REQUEST_METHOD": "POST", "PATH_INFO": path, "QUERY_STRING": "", "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8001", "REMOTE_ADDR": "127.0.0.1", "SERVER_PROTOCOL": "HTTP/1.1",
        "wsgi.url_scheme": "http", "wsgi.input": io.BytesIO(body), "wsgi.errors": sys.stderr,
        "wsgi.multithread": False, "wsgi.multiprocess": True, "wsgi.run_once": False,
        "CONTENT_LENGTH": str(len(body)), "CONTENT_TYPE": "application/json",
        "HTTP_HOST": "127.0.0.1:8001", "HTTP_AUTHORIZATION": f"Bearer {token}",
    }
    env.update(headers or {})
    return env


class _no_capture:
    captured_queries: list = []

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def __len__(self):
        return 0


class Caller:
    """Run requests through the WSGI app, recording time and queries per endpoint."""

    def __init__(self, application):
        self.app = application
        self.capture = True
        self.stats = {}  # name -> [calls, wall s, cpu s, queries, sql s]
        self.last_sql = {}

    def __call__(self, name: str, environ: dict) -> tuple[str, bytes]:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        status = []
        # Capturing queries costs CPU itself, so the timed pass runs without it.
        with CaptureQueriesContext(connection) if self.capture else _no_capture() as captured:
            w0, c0 = time.perf_counter(), time.process_time()
            body = b"".join(self.app(environ, lambda s, h, exc=None: status.append(s)))
            w1, c1 = time.perf_counter(), time.process_time()
        row = self.stats.setdefault(name, [0, 0.0, 0.0, 0, 0.0])
        row[0] += 1
        row[1] += w1 - w0
        row[2] += c1 - c0
        row[3] += len(captured)
        row[4] += sum(float(q["time"]) for q in captured.captured_queries)
        self.last_sql[name] = captured.captured_queries
        return status[0], body


def backend_cpu_seconds() -> float:
    """CPU used so far by this connection's PostgreSQL backend (it must run on this machine)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run_pairs(caller: Caller, tokens: list[str], project: str, pairs: int) -> int:
    run_id = uuid.uuid4().hex[:8]
    done = 0
    for i in range(pairs):
        token = tokens[i % len(tokens)]
        status, body = caller("next", environ_for(f"/api/v1/projects/{project}/assignments/next", token))
        if not status.startswith("200"):
            print(f"next answered {status}: {body[:200]!r}", file=sys.stderr)
            break
        assignment_id = json.loads(body)["assignment_id"]
        status, body = caller("submit", environ_for(
            f"/api/v1/assignments/{assignment_id}/judgment", token, json.dumps({"choice": "tie"}).encode(),
            {"HTTP_IDEMPOTENCY_KEY": f"profile-{run_id}-{i}"}))
        if not status.startswith("201"):
            print(f"submit answered {status}: {body[:200]!r}", file=sys.stderr)
            break
        done += 1
    return done


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tokens", type=Path, required=True)
    parser.add_argument("--project", default="bench")
    parser.add_argument("--pairs", type=int, default=200)
    parser.add_argument("--cprofile", type=int, default=0, metavar="N", help="print the top N functions (see --sort)")
    parser.add_argument("--sort", default="cumulative", help="cProfile sort key: cumulative or tottime")
    parser.add_argument("--sql", action="store_true", help="print the SQL of the last next and submit")
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL"):
        parser.error("set DATABASE_URL to a database made by bench/prepare.py")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "webapp.settings")
    sys.path.insert(0, str(ROOT))
    from webapp.wsgi import application

    tokens = [line.strip() for line in args.tokens.read_text().splitlines() if line.strip()]
    caller = Caller(application)
    run_pairs(caller, tokens, args.project, 10)  # warm up: connection, URL resolver, imports
    caller.stats.clear()
    run_pairs(caller, tokens, args.project, 20)
    queries = {name: (row[3] / row[0], row[4] / row[0]) for name, row in caller.stats.items()}
    caller.stats.clear()
    caller.capture = False
    profiler = cProfile.Profile() if args.cprofile else None
    pg0, cpu0, wall0 = backend_cpu_seconds(), time.process_time(), time.perf_counter()
    if profiler:
        profiler.enable()
    done = run_pairs(caller, tokens, args.project, args.pairs)
    if profiler:
        profiler.disable()
    pg1, cpu1, wall1 = backend_cpu_seconds(), time.process_time(), time.perf_counter()
    done = max(done, 1)
    print(f"{done} next → submit pairs in-process, {len(tokens)} raters round-robin: per pair "
          f"{(wall1 - wall0) / done * 1000:.2f} ms wall, {(cpu1 - cpu0) / done * 1000:.2f} ms Django CPU, "
          f"{(pg1 - pg0) / done * 1000:.2f} ms PostgreSQL backend CPU")
    print(f"  {'call':<8}{'wall ms':>9}{'cpu ms':>9}{'queries':>9}{'sql ms':>9}  (queries from a separate 20-pair pass)")
    for name, (n, wall, cpu, _, _) in caller.stats.items():
        count, sql = queries.get(name, (0, 0))
        print(f"  {name:<8}{wall / n * 1000:>9.2f}{cpu / n * 1000:>9.2f}{count:>9.1f}{sql * 1000:>9.2f}")
    if args.sql:
        for name, queries in caller.last_sql.items():
            print(f"\n-- {name}: {len(queries)} queries")
            for q in queries:
                print(f"[{float(q['time']) * 1000:.2f} ms] {q['sql'][:400]}")
    if profiler:
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats(args.sort).print_stats(args.cprofile)
        print(out.getvalue())


if __name__ == "__main__":
    main()
