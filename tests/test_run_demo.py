"""`./run demo` driven for real: a taken port, and Ctrl+C stopping the server and the worker.

Every process a run starts inherits its WB_VAR_DIR (a fresh temporary folder per test), so the
processes still alive with that value in their environment are exactly the ones it left behind.
"""
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def demo_env(var_dir: Path, port: int) -> dict:
    env = {k: v for k, v in os.environ.items()
           if k not in ("DATABASE_URL", "CELERY_BROKER_URL", "WB_SQLITE_PATH", "WB_SQLITE_TEST_PATH", "WB_BIND")}
    # The demo's own SQLite database and embedded broker, in the test's folder, on the suite's virtualenv.
    return {**env, "WB_VAR_DIR": str(var_dir), "PORT": str(port), "WB_VENV": sys.prefix}


def processes_of(var_dir: Path) -> dict[int, str]:
    """pid -> command line of every live process started with this WB_VAR_DIR."""
    marker = f"WB_VAR_DIR={var_dir}\0".encode()
    found = {}
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            if marker in (proc / "environ").read_bytes() + b"\0":
                state = (proc / "stat").read_text().rsplit(")", 1)[1].split()[0]
                if state != "Z":  # a zombie has exited; only its parent's bookkeeping is left
                    found[int(proc.name)] = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:  # gone meanwhile, or not ours to read
            continue
    return found


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_it_refuses_a_taken_port_clearly_and_leaves_no_worker(tmp_path):
    var_dir = tmp_path / "var"
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        port = squatter.getsockname()[1]
        result = subprocess.run([str(ROOT / "run"), "demo"], env=demo_env(var_dir, port), capture_output=True,
                                text=True, timeout=120)
        survivors = processes_of(var_dir)
    assert result.returncode == 1, result.stderr
    assert f"port {port} on 127.0.0.1 is already in use" in result.stderr
    assert "PORT=" in result.stderr and "--port" in result.stderr  # says how to pick another
    assert survivors == {}


def test_it_refuses_a_port_that_is_not_a_number(tmp_path):
    result = subprocess.run([str(ROOT / "run"), "demo", "--port", "80x"], env=demo_env(tmp_path / "var", 1),
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and "not '80x'" in result.stderr


def wait_until_served(url: str, demo: subprocess.Popen, log: Path, *, limit_s: float = 240) -> None:
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        assert demo.poll() is None, f"./run demo exited ({demo.returncode}):\n{log.read_text()}"
        try:
            urllib.request.urlopen(url, timeout=5)
            return
        except urllib.error.HTTPError:
            return  # answered: it serves
        except OSError:
            time.sleep(0.5)
    pytest.fail(f"./run demo did not serve {url} within {limit_s} s:\n{log.read_text()}")


def wait_for_worker(var_dir: Path, *, limit_s: float = 60) -> None:
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        if "ready." in (var_dir / "worker.log").read_text(errors="replace"):
            return
        time.sleep(0.5)
    pytest.fail("the Celery worker never got ready:\n" + (var_dir / "worker.log").read_text(errors="replace"))


@pytest.mark.slow
@pytest.mark.skipif(bool(os.environ.get("DATABASE_URL")),
                    reason="the demo runs on its own SQLite database whatever the suite's: the SQLite pass covers it")
def test_ctrl_c_stops_the_server_and_the_worker_and_waits_for_both(tmp_path):
    var_dir, port = tmp_path / "var", free_port()
    log = tmp_path / "demo.log"
    with log.open("w") as out:  # a file, not a pipe nobody reads: a full pipe would block the server
        demo = subprocess.Popen([str(ROOT / "run"), "demo", "--port", str(port)], env=demo_env(var_dir, 8000),
                                stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        wait_until_served(f"http://127.0.0.1:{port}/login/", demo, log)
        wait_for_worker(var_dir)
        for output in (log.read_text(), (var_dir / "worker.log").read_text()):  # set-up, server and worker
            noise = [line for line in output.splitlines()
                     if re.search(r"warn|deprecat|!!|traceback|error", line, re.IGNORECASE)]
            assert noise == [], output
        running = " | ".join(processes_of(var_dir).values())
        assert "celery -A webapp worker" in running and "gunicorn webapp.wsgi" in running, running
        os.killpg(demo.pid, signal.SIGINT)  # what Ctrl+C in a terminal does: the whole foreground group
        assert demo.wait(timeout=120) == 0, log.read_text()
        # The script returned only after both were gone: nothing of this run is left.
        assert processes_of(var_dir) == {}, log.read_text()
        assert "Warm shutdown" in (var_dir / "worker.log").read_text()
    finally:
        for pid in processes_of(var_dir):
            os.kill(pid, signal.SIGKILL)


@pytest.mark.slow
@pytest.mark.skipif(bool(os.environ.get("DATABASE_URL")),
                    reason="the demo runs on its own SQLite database whatever the suite's: the SQLite pass covers it")
def test_a_port_taken_during_set_up_stops_it_without_a_worker(tmp_path):
    # The port is free when the demo checks it and taken by the time the server binds (another program won the race).
    var_dir, port = tmp_path / "var", free_port()
    log = tmp_path / "demo.log"
    with log.open("w") as out, socket.socket() as squatter:
        demo = subprocess.Popen([str(ROOT / "run"), "demo"], env=demo_env(var_dir, port), stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True)
        try:
            deadline = time.monotonic() + 120
            while not (var_dir / "workbench.sqlite3").exists():  # migrating: long past the port check
                assert demo.poll() is None and time.monotonic() < deadline, log.read_text()
                time.sleep(0.1)
            squatter.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            squatter.bind(("127.0.0.1", port))
            squatter.listen()
            assert demo.wait(timeout=240) == 1, log.read_text()
            assert f"the server could not start on 127.0.0.1:{port}" in log.read_text()
            assert processes_of(var_dir) == {}
            assert not (var_dir / "worker.log").exists()  # no worker was ever started
        finally:
            for pid in processes_of(var_dir):
                os.kill(pid, signal.SIGKILL)
