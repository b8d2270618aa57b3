"""Import speed and memory: N HH-sized pairs into a fresh PostgreSQL database.

    .venv/bin/python bench/import_bench.py --pairs 100000
    .venv/bin/python bench/import_bench.py --pairs 10000 --profile     # where the time goes

Builds var/bench/hh_<N>.jsonl.gz from the real HH-RLHF lines of the developer sample
(/work/shared/data/hh_rlhf_helpful_dev.jsonl.gz, or --source): line i is dev line i mod 2,000 with
every turn made unique ("Pair i: " in front of each Human and Assistant turn, and a different
ending on each final reply), so nothing is skipped as already present and no text is rendered
twice. The 7 dev lines the importer rejects are left out. Then it creates database
wb_importbench_<time> through --admin-url, migrates it, creates project `bench`, and runs
`import_comparisons` in a child process, which reports its wall time and peak RSS (ru_maxrss).
Prints comparisons/s, peak RSS, the CPU time of the importer and of its PostgreSQL backend (on a
shared machine wall time mostly measures the neighbours) and the machine's load.
"""
import argparse
import gzip
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from prepare import create_database, database_url_for  # noqa: E402


def build_file(source: Path, pairs: int, out: Path) -> Path:
    from prefkit.formats import ImportReader, RecordProblem

    raw = gzip.decompress(source.read_bytes()).decode("utf-8").splitlines()
    kept_lines = {item.line for item in ImportReader("\n".join(raw).encode(), file_name=source.name)
                  if not isinstance(item, RecordProblem)}
    records = [json.loads(raw[n - 1]) for n in sorted(kept_lines)]
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".tmp")
    # gzip, as HH-RLHF is published: 100,000 pairs are ~316 MB of JSON, over WB_MAX_IMPORT_BYTES.
    with gzip.open(tmp, "wt", encoding="utf-8", compresslevel=6) as stream:
        for i in range(pairs):
            record = records[i % len(records)]
            stream.write(json.dumps(_unique(record, i), ensure_ascii=False) + "\n")
    tmp.rename(out)
    return out


def _unique(record: dict, i: int) -> dict:
    def vary(transcript: str, ending: str) -> str:
        marked = transcript.replace("\n\nHuman: ", f"\n\nHuman: Pair {i}: ")
        return marked.replace("\n\nAssistant: ", f"\n\nAssistant: Pair {i}: ") + ending

    return {**record, "chosen": vary(record["chosen"], f" (pair {i}, first)"),
            "rejected": vary(record["rejected"], f" (pair {i}, second)"), "bench_id": i}


def child(path: Path, profile: bool) -> None:
    """Run in the child: import the file, print timings and peak RSS as JSON."""
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "webapp.settings")
    django.setup()
    from webapp.comparisons.imports import import_file
    from webapp.projects.models import Project

    project = Project.objects.get(slug="bench")
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        backend = cursor.fetchone()[0]
    pg_cpu_before = _cpu_seconds(backend)
    started, cpu_started = time.perf_counter(), time.process_time()
    if profile:
        import cProfile
        import pstats

        # CPU time, not wall time: on a shared machine the wall clock mostly measures the neighbours.
        profiler = cProfile.Profile(time.process_time)
        batch = profiler.runcall(import_file, project=project, path=path, file_name=path.name, actor=None)
        pstats.Stats(profiler, stream=sys.stderr).sort_stats("tottime").print_stats(25)
    else:
        batch = import_file(project=project, path=path, file_name=path.name, actor=None)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    pg_cpu = _cpu_seconds(backend) - pg_cpu_before if pg_cpu_before is not None else None
    print(json.dumps({"created": batch.created_count, "rejected": batch.rejected_count, "seconds": seconds,
                      "importer_cpu_s": cpu, "postgres_cpu_s": pg_cpu,
                      "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))


def _cpu_seconds(pid: int) -> float | None:
    """CPU time (user + system) of a process on this machine: the PostgreSQL backend serving the import."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None  # the database runs elsewhere
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pairs", type=int, default=100_000)
    parser.add_argument("--source", type=Path, default=Path("/work/shared/data/hh_rlhf_helpful_dev.jsonl.gz"))
    parser.add_argument("--admin-url", default=os.environ.get("BENCH_ADMIN_URL", "postgres://postgres@127.0.0.1:5432/postgres"))
    parser.add_argument("--profile", action="store_true", help="print the import's top functions by own time")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(args.child, args.profile)

    path = ROOT / "var" / "bench" / f"hh_{args.pairs}.jsonl.gz"
    if not path.exists():
        print(f"building {path} …", flush=True)
        build_file(args.source, args.pairs, path)
    name = f"wb_importbench_{int(time.time())}"
    create_database(args.admin_url, name)
    env = {**os.environ, "DATABASE_URL": database_url_for(args.admin_url, name)}
    manage = [sys.executable, str(ROOT / "manage.py")]
    subprocess.run([*manage, "migrate", "-v", "0"], env=env, check=True, cwd=ROOT)
    subprocess.run([*manage, "create_project", "bench", "--name", "Import bench", "--scale", "binary_tie"],
                   env=env, check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
    command = [sys.executable, __file__, "--child", str(path)] + (["--profile"] if args.profile else [])
    result = json.loads(subprocess.run(command, env=env, check=True, cwd=ROOT, text=True,
                                       stdout=subprocess.PIPE).stdout.strip().splitlines()[-1])
    load = os.getloadavg()
    created, cpu, pg_cpu = result["created"], result["importer_cpu_s"], result["postgres_cpu_s"]
    print(f"database {name}; file {path.name}: {path.stat().st_size / 2**20:.0f} MiB, {args.pairs} pairs")
    print(f"imported {created} comparisons in {result['seconds']:.1f} s: "
          f"{created / result['seconds']:.0f} comparisons/s; peak RSS {result['peak_rss_mb']:.0f} MB")
    # On a shared, loaded machine wall time measures the neighbours; CPU time measures the import.
    if pg_cpu is not None:
        print(f"CPU: importer {cpu:.1f} s, PostgreSQL backend {pg_cpu:.1f} s: "
              f"{created / (cpu + pg_cpu):.0f} comparisons per CPU-second (both together)")
    print(f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} on {os.cpu_count()} CPUs")


if __name__ == "__main__":
    main()
