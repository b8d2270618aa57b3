"""Simulate concurrent raters against a running server, then check the database.

    .venv/bin/python bench/rater_load.py --url http://127.0.0.1:8001 --project bench \\
        --tokens var/bench/tokens.txt --raters 32 --duration 20 --database-url postgres://...

Each rater loops: POST /api/v1/projects/{slug}/assignments/next, then POST
/api/v1/assignments/{id}/judgment with an Idempotency-Key and a random valid answer for the
project's scale. It starts no server and imports no Django: the client is a minimal HTTP/1.1
keep-alive client on asyncio streams, one connection per rater (it shares the CPU with the server,
so it must stay cheap: about 0.6 ms of CPU per request here, against 1.1 ms with aiohttp), and
the checks read PostgreSQL with psycopg. Prints judgments/s and next/submit latency percentiles;
exits 1 if an integrity check fails, 2 if nothing could be measured.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import random
import resource
import sys
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

TRANSPORT_RETRIES = 3
TARGET_JUDGMENTS_PER_S = 200
TARGET_P95_MS = 100


@dataclass
class Config:
    url: str
    project: str
    tokens: list[str]
    duration: float
    warmup: float
    max_judgments: int | None
    timeout: float
    seed: int
    think_ms: float = 0
    audit_off: bool = False
    run_id: str = field(default_factory=lambda: "bench-" + uuid.uuid4().hex[:12])


@dataclass
class Results:
    """What the clients saw. Latencies (ms) and counts only cover the measured window."""

    next_ms: list[float] = field(default_factory=list)
    submit_ms: list[float] = field(default_factory=list)
    judged_in_window: int = 0
    acknowledged: set[int] = field(default_factory=set)  # judgment ids from 201 (or an idempotent replay)
    replays: int = 0
    errors: Counter = field(default_factory=Counter)
    exhausted: int = 0  # raters who got 204: nothing left to judge


def answer_for(scale: dict, allow_both_bad: bool, rationale_required: bool, rng: random.Random) -> dict:
    """A random valid judgment body for the scale the assignment payload describes."""
    choices = ["left", "right"] + (["tie"] if scale.get("allows_tie") else []) + (["both_bad"] if allow_both_bad else [])
    choice = rng.choice(choices)
    body = {"choice": choice, "active_ms": rng.randint(2_000, 60_000)}
    strengths = [level[0] if isinstance(level, list) else level for level in scale.get("strengths", [])]
    if choice in ("left", "right") and strengths:
        body["strength"] = rng.choice(strengths)
    if rationale_required:
        body["rationale"] = "bench: the chosen side answers the question."
    return body


class HttpConnection:
    """One keep-alive HTTP/1.1 connection, just enough for this API (about half aiohttp's CPU per request).

    Each rater owns one, as a browser tab would: requests on it never overlap.
    """

    def __init__(self, base_url: str, timeout: float):
        url = urlsplit(base_url)
        if url.scheme != "http":
            raise SystemExit("only http:// URLs are supported (put TLS in front of the bench, not in it)")
        self.host, self.port = url.hostname, url.port or 80
        self.prefix, self.timeout = url.path.rstrip("/"), timeout
        self.host_header = url.netloc.encode()
        self.reader = self.writer = None

    async def post(self, path: str, headers: bytes, body: bytes = b"") -> tuple[int, dict, bytes]:
        """POST with retries on transport errors only; return (status, lower-cased headers, body)."""
        for attempt in range(TRANSPORT_RETRIES):
            try:
                return await asyncio.wait_for(self._exchange(path, headers, body), self.timeout)
            except (OSError, asyncio.IncompleteReadError, asyncio.TimeoutError, ValueError):
                self.close()
                if attempt == TRANSPORT_RETRIES - 1:
                    raise
                await asyncio.sleep(0.05)

    async def _exchange(self, path: str, headers: bytes, body: bytes) -> tuple[int, dict, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        self.writer.write(b"POST %s HTTP/1.1\r\nHost: %s\r\n%sContent-Length: %d\r\n\r\n%s" % (
            (self.prefix + path).encode(), self.host_header, headers, len(body), body))
        head = await self.reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        fields = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            if name:
                fields[name.strip().lower()] = value.strip()
        if "content-length" in fields:
            payload = await self.reader.readexactly(int(fields["content-length"]))
        elif fields.get("transfer-encoding", "").lower() == "chunked":
            payload = await self._read_chunked()
        elif status in (204, 304):
            payload = b""
        else:
            payload = await self.reader.read()
            fields["connection"] = "close"
        if fields.get("connection", "").lower() == "close":
            self.close()
        return status, fields, payload

    async def _read_chunked(self) -> bytes:
        parts = []
        while True:
            size = int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16)
            if size == 0:
                await self.reader.readuntil(b"\r\n")
                return b"".join(parts)
            parts.append(await self.reader.readexactly(size + 2))
            parts[-1] = parts[-1][:-2]

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


TRANSPORT_ERRORS = (OSError, asyncio.IncompleteReadError, asyncio.TimeoutError, ValueError)


class Rater:
    def __init__(self, index: int, token: str, cfg: Config, results: Results, stop: asyncio.Event):
        self.index, self.cfg, self.results, self.stop = index, cfg, results, stop
        self.conn = HttpConnection(cfg.url, cfg.timeout)
        self.auth = f"Authorization: Bearer {token}\r\n".encode()
        self.rng = random.Random(cfg.seed * 1000 + index)
        self.next_path = f"/api/v1/projects/{cfg.project}/assignments/next"

    async def run(self, start: float) -> None:
        n = 0
        try:
            while not self.stop.is_set():
                t0 = time.perf_counter()
                try:
                    status, _, raw = await self.conn.post(self.next_path, self.auth)
                except TRANSPORT_ERRORS as error:
                    self._error("next", type(error).__name__)
                    await asyncio.sleep(0.1)
                    continue
                t1 = time.perf_counter()
                if status == 204:
                    self.results.exhausted += 1
                    return
                if status != 200:
                    self._error("next", status, raw)
                    await asyncio.sleep(0.1)
                    continue
                await self._submit(json.loads(raw), f"{self.cfg.run_id}-{self.index}-{n}", start, t0, t1)
                n += 1
                if self.cfg.think_ms:
                    await asyncio.sleep(self.rng.expovariate(1000 / self.cfg.think_ms))
        finally:
            self.conn.close()

    async def _submit(self, payload: dict, key: str, start: float, t_next: float, t_next_done: float) -> None:
        body = answer_for(payload["scale"], payload["allow_both_bad"], payload["rationale_required"], self.rng)
        path = f"/api/v1/assignments/{payload['assignment_id']}/judgment"
        headers = self.auth + f"Idempotency-Key: {key}\r\nContent-Type: application/json\r\n".encode()
        t2 = time.perf_counter()
        try:
            # A retry after a transport error resends the same key: the server answers 200 with the first judgment.
            status, _, raw = await self.conn.post(path, headers, json.dumps(body).encode())
        except TRANSPORT_ERRORS as error:
            self._error("submit", type(error).__name__)
            return
        t3 = time.perf_counter()
        if status not in (200, 201):
            self._error("submit", status, raw)
            return
        self.results.acknowledged.add(json.loads(raw)["judgment_id"])
        self.results.replays += status == 200
        if start + self.cfg.warmup <= t_next and t3 <= start + self.cfg.warmup + self.cfg.duration:
            self.results.next_ms.append((t_next_done - t_next) * 1000)
            self.results.submit_ms.append((t3 - t2) * 1000)
            self.results.judged_in_window += 1
        if self.cfg.max_judgments and len(self.results.acknowledged) >= self.cfg.max_judgments:
            self.stop.set()

    def _error(self, call: str, what, raw: bytes = b"") -> None:
        detail = ""
        if raw:
            try:
                detail = " " + json.loads(raw).get("error", "")
            except (ValueError, AttributeError):
                detail = ""
        self.results.errors[f"{call} {what}{detail}"] += 1


async def run_load(cfg: Config, meter: Meter) -> Results:
    results, stop = Results(), asyncio.Event()
    raters = [Rater(i, token, cfg, results, stop) for i, token in enumerate(cfg.tokens)]
    start = time.perf_counter()
    tasks = [asyncio.create_task(r.run(start)) for r in raters]
    await asyncio.wait(tasks, timeout=cfg.warmup)
    await asyncio.to_thread(meter.start)
    await asyncio.wait(tasks, timeout=start + cfg.warmup + cfg.duration - time.perf_counter())
    meter.stop()
    # Every rater now finishes its current next → submit pair, so no lease is left open.
    stop.set()
    await asyncio.gather(*tasks)
    return results


# --- reporting ---------------------------------------------------------------------------

def percentile(sorted_values: list[float], q: float) -> float:
    """Nearest-rank percentile of an ascending list."""
    if not sorted_values:
        return float("nan")
    rank = max(1, min(len(sorted_values), math.ceil(q / 100 * len(sorted_values))))
    return sorted_values[rank - 1]


def latency_row(name: str, values: list[float]) -> str:
    v = sorted(values)
    cells = [percentile(v, q) for q in (50, 95, 99)] + [v[-1] if v else float("nan")]
    return f"  {name:<8}{len(v):>8}" + "".join(f"{c:>9.1f}" for c in cells)


def cpu_busy_seconds() -> tuple[float, float]:
    """(busy, total) jiffies of all CPUs from /proc/stat, in seconds."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]
    hz = os.sysconf("SC_CLK_TCK")
    return (sum(fields) - idle) / hz, sum(fields) / hz


def process_cpu_seconds(pid: int) -> float:
    """utime + stime of one process, 0 if it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def server_pids(master: int | None, database_url: str | None) -> dict[str, list[int]]:
    """Gunicorn's workers (children of `master`) and the PostgreSQL backends serving this database."""
    pids = {"server": [], "postgres": []}
    if master:
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == master:
                    pids["server"].append(int(stat.parent.name))
            except (OSError, ValueError, IndexError):
                continue
    if database_url:
        import psycopg

        with psycopg.connect(database_url) as conn:
            pids["postgres"] = [pid for (pid,) in conn.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()")]
    return pids


class Meter:
    """CPU used during the measured window by this client, the server's workers and PostgreSQL."""

    def __init__(self, master: int | None, database_url: str | None):
        self.master, self.database_url = master, database_url
        self.pids, self.start_cpu = {}, {}
        self.client = self.machine_busy = 0.0
        self.server = {}
        self.waits = Counter()  # (state, wait event) of this database's backends, sampled
        self._sampling = threading.Event()
        self._sampler = None

    def _sample_waits(self) -> None:
        import psycopg

        with psycopg.connect(self.database_url, autocommit=True) as conn:
            while not self._sampling.wait(0.1):
                for state, event in conn.execute(
                        "SELECT state, coalesce(wait_event_type || ':' || wait_event, 'on CPU') FROM pg_stat_activity "
                        "WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend'"):
                    self.waits["idle (waiting for the app)" if state == "idle" else f"{state}, {event}"] += 1

    def start(self) -> None:
        # Listed at the window's start, after the warm-up, so the workers' connections exist.
        self.pids = server_pids(self.master, self.database_url) if self.master else {}
        self.start_cpu = {name: {pid: process_cpu_seconds(pid) for pid in group} for name, group in self.pids.items()}
        self._rusage, self._busy = resource.getrusage(resource.RUSAGE_SELF), cpu_busy_seconds()
        if self.database_url:
            self._sampler = threading.Thread(target=self._sample_waits, daemon=True)
            self._sampler.start()

    def stop(self) -> None:
        self._sampling.set()
        if self._sampler is not None:
            self._sampler.join(1)
        rusage, (busy, total) = resource.getrusage(resource.RUSAGE_SELF), cpu_busy_seconds()
        self.client = rusage.ru_utime - self._rusage.ru_utime + rusage.ru_stime - self._rusage.ru_stime
        self.machine_busy = (busy - self._busy[0]) / max(total - self._busy[1], 1e-9)
        self.server = {name: sum(max(process_cpu_seconds(pid) - start, 0) for pid, start in group.items())
                       for name, group in self.start_cpu.items()}


def print_load_report(cfg: Config, r: Results, meter: Meter) -> None:
    window = cfg.duration
    requests = len(r.next_ms) + len(r.submit_ms)
    think = f", think time {cfg.think_ms:.0f} ms" if cfg.think_ms else ", no think time"
    print(f"rater load: {len(cfg.tokens)} raters on {cfg.url} project {cfg.project}{think}, "
          f"{window:.1f} s measured after {cfg.warmup:.1f} s warm-up (run id {cfg.run_id})")
    print(f"  judgments/s {r.judged_in_window / window:>9.1f}   ({r.judged_in_window} in the window, "
          f"{len(r.acknowledged)} acknowledged in all, {r.replays} idempotent replays)")
    print(f"  requests/s  {requests / window:>9.1f}")
    print(f"  latency ms {'n':>7}{'p50':>9}{'p95':>9}{'p99':>9}{'max':>9}")
    print(latency_row("next", r.next_ms))
    print(latency_row("submit", r.submit_ms))
    errors = ", ".join(f"{k}: {v}" for k, v in r.errors.most_common()) or "none"
    print(f"  errors      {errors}")
    if r.exhausted:
        print(f"  {r.exhausted} raters ran out of comparisons (204)")
    print("  CPU in the window (per next → submit pair):")
    for name, seconds in {"client": meter.client, **meter.server}.items():
        per_pair = f"{seconds / r.judged_in_window * 1000:>6.2f} ms" if r.judged_in_window else "     -"
        print(f"    {name:<10}{seconds:>7.2f} s  {seconds / window * 100:>4.0f}% of a core  {per_pair}")
    if meter.waits:
        total = sum(meter.waits.values())
        print("  PostgreSQL backends, sampled every 0.1 s: " + ", ".join(
            f"{what} {n / total * 100:.0f}%" for what, n in meter.waits.most_common(6)))
    print(f"  machine     {os.cpu_count()} CPUs, {meter.machine_busy * 100:.0f}% busy in the window, "
          f"load average {' '.join(Path('/proc/loadavg').read_text().split()[:3])}")


# --- integrity checks ------------------------------------------------------------------------

# A re-queued comparison starts a new round (taken and judged back to 0, the same raters welcome
# again), so limits hold per (comparison, round). {a_round}/{c_round} become 1 on a schema without rounds.
# A consistency re-serve (Assignment.repeat_of, when the project's consistency_fraction is above 0)
# gives a rater a pair again outside the overlap: {regular} leaves re-serves out of the limits (it is
# empty on a schema without them); the re-serve checks below hold them to their own rules.
CHECKS = {
    "no comparison round has more live assignments or judgments than the project's overlap": """
        SELECT c.id FROM comparisons_comparison c
        WHERE c.project_id = %(project)s AND (
            c.taken > %(overlap)s
            OR EXISTS (SELECT 1 FROM comparisons_assignment a WHERE a.comparison_id = c.id {regular}
                       AND a.status IN ('leased', 'submitted') GROUP BY {a_round} HAVING count(*) > %(overlap)s)
            OR EXISTS (SELECT 1 FROM comparisons_judgment j JOIN comparisons_assignment a ON a.id = j.assignment_id
                       WHERE j.comparison_id = c.id {regular}
                         AND NOT EXISTS (SELECT 1 FROM comparisons_judgment s WHERE s.supersedes_id = j.id)
                       GROUP BY {a_round} HAVING count(*) > %(overlap)s))""",
    "no rater was assigned one comparison twice in a round": """
        SELECT a.rater_id, a.comparison_id FROM comparisons_assignment a WHERE a.project_id = %(project)s {regular}
        GROUP BY a.rater_id, a.comparison_id, {a_round} HAVING count(*) > 1""",
    "no rater has two live judgments on one comparison in a round": """
        SELECT j.rater_id, j.comparison_id FROM comparisons_judgment j
        JOIN comparisons_assignment a ON a.id = j.assignment_id AND a.project_id = %(project)s
        WHERE NOT EXISTS (SELECT 1 FROM comparisons_judgment s WHERE s.supersedes_id = j.id) {regular}
        GROUP BY j.rater_id, j.comparison_id, {a_round} HAVING count(*) > 1""",
    "every submitted assignment has exactly one live judgment": """
        SELECT a.id FROM comparisons_assignment a
        WHERE a.project_id = %(project)s AND a.status = 'submitted' AND (
            SELECT count(*) FROM comparisons_judgment j WHERE j.assignment_id = a.id
              AND NOT EXISTS (SELECT 1 FROM comparisons_judgment s WHERE s.supersedes_id = j.id)) <> 1""",
    "comparison counters (taken, judged) match the current round's assignments": """
        SELECT c.id FROM comparisons_comparison c
        LEFT JOIN LATERAL (
            SELECT count(*) FILTER (WHERE a.status IN ('leased', 'submitted')) AS taken,
                   count(*) FILTER (WHERE a.status = 'submitted') AS judged
            FROM comparisons_assignment a WHERE a.comparison_id = c.id AND {a_round} = {c_round} {regular}) a ON true
        WHERE c.project_id = %(project)s AND (c.taken <> a.taken OR c.judged <> a.judged)""",
}
REPEAT_CHECKS = {
    "every consistency re-serve is its own rater's judged assignment of the same pair, and is judged as a re-serve": """
        SELECT r.id FROM comparisons_assignment r JOIN comparisons_assignment o ON o.id = r.repeat_of_id
        WHERE r.project_id = %(project)s AND (o.rater_id <> r.rater_id OR o.comparison_id <> r.comparison_id
              OR o.status <> 'submitted' OR o.repeat_of_id IS NOT NULL
              OR EXISTS (SELECT 1 FROM comparisons_judgment j WHERE j.assignment_id = r.id AND NOT j.repeat)
              OR EXISTS (SELECT 1 FROM comparisons_judgment j WHERE j.assignment_id = o.id AND j.repeat))""",
}


def check_database(database_url: str, cfg: Config, r: Results) -> bool:
    import psycopg

    ok = True

    def report(passed: bool, text: str) -> None:
        nonlocal ok
        ok &= passed
        print(f"  [{'ok' if passed else 'FAIL'}] {text}")

    with psycopg.connect(database_url) as conn:
        row = conn.execute("SELECT id, overlap FROM projects_project WHERE slug = %s", [cfg.project]).fetchone()
        if row is None:
            print(f"  [FAIL] no project {cfg.project!r} in this database")
            return False
        params = {"project": row[0], "overlap": row[1], "keys": cfg.run_id + "-%"}
        print(f"integrity (project {cfg.project}, overlap {row[1]}):")
        stored = {jid for (jid,) in conn.execute(
            "SELECT j.id FROM comparisons_judgment j JOIN comparisons_assignment a ON a.id = j.assignment_id "
            "WHERE a.project_id = %(project)s AND j.idempotency_key LIKE %(keys)s", params)}
        lost, unacked = r.acknowledged - stored, stored - r.acknowledged
        report(not lost and not unacked,
               f"judgments stored = acknowledged: {len(stored)} = {len(r.acknowledged)}"
               + (f" (lost {sorted(lost)[:10]}, stored but unacknowledged {sorted(unacked)[:10]})" if lost or unacked else ""))
        has_rounds = conn.execute("SELECT 1 FROM information_schema.columns WHERE table_name = "
                                  "'comparisons_assignment' AND column_name = 'round'").fetchone() is not None
        rounds = {"a_round": "a.round", "c_round": "c.round"} if has_rounds else {"a_round": "1", "c_round": "1"}
        has_repeats = conn.execute("SELECT 1 FROM information_schema.columns WHERE table_name = "
                                   "'comparisons_assignment' AND column_name = 'repeat_of_id'").fetchone() is not None
        rounds["regular"] = "AND a.repeat_of_id IS NULL" if has_repeats else ""
        for text, query in {**CHECKS, **(REPEAT_CHECKS if has_repeats else {})}.items():
            bad = conn.execute(query.format(**rounds), params).fetchall()
            report(not bad, text + (f": {len(bad)} violations, e.g. {bad[:5]}" if bad else ""))
        audited = conn.execute(
            "SELECT count(*) FROM audit_auditevent WHERE action = 'judgment.submitted' "
            "AND object_type = 'comparisons.judgment' AND object_id = ANY(%(ids)s)",
            {"ids": [str(i) for i in stored]}).fetchone()[0]
        if cfg.audit_off:
            print(f"  [--] audit events not checked (--audit-off: server ran with WB_AUDIT_DISABLED_FOR_BENCHMARK=1); "
                  f"{audited} found")
        else:
            report(audited == len(stored),
                   f"one judgment.submitted audit event per stored judgment: {audited} = {len(stored)}")
        lo, hi, n = conn.execute("SELECT min(seq), max(seq), count(*) FROM audit_auditevent").fetchone()
        report(n == 0 or hi - lo + 1 == n, f"audit chain has no sequence gaps ({n} events)")
        leased = conn.execute("SELECT count(*) FROM comparisons_assignment WHERE project_id = %(project)s "
                              "AND status = 'leased'", params).fetchone()[0]
        print(f"  leases still open in the project: {leased}")
    return ok


def vacuum(database_url: str) -> None:
    import psycopg

    from pgstats import vacuum_analyze_filled_tables

    with psycopg.connect(database_url, autocommit=True) as conn, conn.cursor() as cursor:
        vacuum_analyze_filled_tables(cursor)


def parse_args() -> tuple[Config, str | None]:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", required=True, help="server base URL, e.g. http://127.0.0.1:8001")
    parser.add_argument("--project", required=True, help="project slug")
    parser.add_argument("--tokens", type=Path, required=True, help="file of API tokens, one per line")
    parser.add_argument("--raters", type=int, default=32, help="concurrent raters, one token each (default 32)")
    parser.add_argument("--duration", type=float, default=20, help="measured seconds (default 20)")
    parser.add_argument("--warmup", type=float, default=2, help="seconds before measuring (default 2)")
    parser.add_argument("--judgments", type=int, help="stop once this many judgments are acknowledged")
    parser.add_argument("--think-ms", type=float, default=0,
                        help="mean pause after each judgment (exponential); 0, the default, is a stress test")
    parser.add_argument("--timeout", type=float, default=30, help="per-request timeout in seconds")
    parser.add_argument("--vacuum", action="store_true",
                        help="VACUUM ANALYZE the tables that hold rows first (for back-to-back runs where "
                             "autovacuum is off; bench/pgstats.py says why not the empty ones)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--audit-off", action="store_true",
                        help="the server runs with WB_AUDIT_DISABLED_FOR_BENCHMARK=1 (to measure what auditing costs): "
                             "skip the audit-event check")
    parser.add_argument("--server-pid", help="gunicorn master pid or pid file: report the CPU its workers "
                        "and this database's PostgreSQL backends used (same machine only)")
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"),
                        help="PostgreSQL URL for the integrity checks (default $DATABASE_URL)")
    args = parser.parse_args()
    tokens = [line.strip() for line in args.tokens.read_text().splitlines() if line.strip()]
    if len(tokens) < args.raters:
        # Two raters on one token would race for the same lease; refuse rather than mis-measure.
        parser.error(f"{args.tokens} has {len(tokens)} tokens; --raters {args.raters} needs as many")
    cfg = Config(url=args.url.rstrip("/"), project=args.project, tokens=tokens[:args.raters], duration=args.duration,
                 warmup=args.warmup, max_judgments=args.judgments, timeout=args.timeout, seed=args.seed,
                 think_ms=args.think_ms, audit_off=args.audit_off)
    if args.vacuum:
        vacuum(args.database_url or parser.error("--vacuum needs --database-url"))
    master = args.server_pid
    if master and not master.isdigit():
        master = Path(master).read_text().strip()
    return cfg, args.database_url, int(master) if master else None


def main() -> int:
    cfg, database_url, master = parse_args()
    meter = Meter(master, database_url)
    results = asyncio.run(run_load(cfg, meter))
    print_load_report(cfg, results, meter)
    if not results.judged_in_window:
        print("nothing was measured: is the server up, and the project ready?", file=sys.stderr)
    if database_url:
        ok = check_database(database_url, cfg, results)
    else:
        ok = True
        print("integrity: skipped (no --database-url or $DATABASE_URL)")
    submit_p95 = percentile(sorted(results.submit_ms), 95)
    next_p95 = percentile(sorted(results.next_ms), 95)
    met = results.judged_in_window / cfg.duration >= TARGET_JUDGMENTS_PER_S and max(next_p95, submit_p95) < TARGET_P95_MS
    print(f"target (>= {TARGET_JUDGMENTS_PER_S} judgments/s, p95 < {TARGET_P95_MS} ms for next and submit): "
          f"{'met' if met else 'NOT met'}; integrity: {'ok' if ok else 'FAILED'}")
    if not ok:
        return 1
    return 0 if results.judged_in_window else 2


if __name__ == "__main__":
    sys.exit(main())
