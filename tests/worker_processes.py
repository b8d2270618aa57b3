"""Real Celery worker processes for the tests that kill one (SIGKILL) in the middle of a job:
started on the test's database, broker and queue, stopped or killed by their process id."""
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from django.db import connection

ROOT = Path(__file__).resolve().parents[1]


def worker_env(**extra) -> dict:
    """The test's database, broker and queue, for a worker in another process (heartbeat every second)."""
    env = {**os.environ, "WB_JOB_HEARTBEAT_SECONDS": "1", **extra}
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        env["WB_SQLITE_PATH"] = db["NAME"]
    else:
        env["DATABASE_URL"] = f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    return env


def start_worker(tmp_path: Path, name: str, *, beat: bool, **env) -> subprocess.Popen:
    """A solo-pool worker named `name` (with beat, so the job sweeper runs, if `beat`), logging to
    tmp_path/<name>.log; `env` adds or overrides settings for it (WB_JOB_STALE_SECONDS="3", ...)."""
    args = [sys.executable, "-m", "celery", "-A", "webapp", "worker", "--pool", "solo", "-l", "WARNING",
            "-n", f"{name}@%h", "--without-mingle", "--without-gossip"]
    if beat:
        args += ["-B", "-s", str(tmp_path / f"{name}-beat")]
    log = open(tmp_path / f"{name}.log", "w")
    return subprocess.Popen(args, cwd=ROOT, env=worker_env(**env), stdout=log, stderr=subprocess.STDOUT)


def wait_for(condition, timeout: float, what: str):
    """Poll `condition` every 50 ms until it returns something true; return that."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def kill_worker(process: subprocess.Popen) -> None:
    """SIGKILL: the worker gets no chance to clean up, mark its job or ack its message."""
    process.send_signal(signal.SIGKILL)
    process.wait(10)


def stop_worker(process: subprocess.Popen) -> None:
    """Warm shutdown if it still runs (SIGTERM), SIGKILL if that takes more than 30 s."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
