"""A live Label Studio for the interop tests: its own virtualenv, cached outside the checkout.

Label Studio pins its own Django, so it never goes into .venv. The virtualenv lives in
$WB_CACHE/labelstudio-venv (default /var/cache/preference-workbench), created here with pip on
first use (about 8 min on a busy 2-core machine). Its first database migration takes another
~4 min, so a migrated data folder with two users is also cached (labelstudio-template-<version>)
and copied into a temporary folder for each test session, which then starts in ~30 s.

The server listens on 127.0.0.1 only, with analytics, Sentry and version checks off.
Run as a script (`python tests/labelstudio_server.py`) it prepares the cache, starts an instance
and prints its URL and tokens until Ctrl-C: handy to try things by hand.
"""
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

LABEL_STUDIO_VERSION = "1.23.2"
CACHE = Path(os.environ.get("WB_CACHE", "/var/cache/preference-workbench"))
VENV = CACHE / "labelstudio-venv"
TEMPLATE = CACHE / f"labelstudio-template-{LABEL_STUDIO_VERSION}"
PORTS = range(int(os.environ.get("WB_LS_PORT", "8190")), int(os.environ.get("WB_LS_PORT", "8190")) + 10)

# Two accounts: the lead (owner, legacy API token) and a second annotator.
LEAD = ("lead@example.org", "lead-password-12345", "wbtest-lead-token-0123456789")
RATER = ("rater2@example.org", "rater2-password-12345", "wbtest-rater-token-0123456789")

QUIET_ENV = {
    "LABEL_STUDIO_COLLECT_ANALYTICS": "false",
    "COLLECT_ANALYTICS": "false",
    "SENTRY_DSN": "",
    "FRONTEND_SENTRY_DSN": "",
    "LATEST_VERSION_CHECK": "false",
    "LABEL_STUDIO_DISABLE_SIGNUP_WITHOUT_LINK": "true",
}


class LabelStudioUnavailable(RuntimeError):
    """Label Studio could not be installed or started here; the message says what failed."""


@dataclass
class LiveLabelStudio:
    url: str
    lead_token: str
    rater_token: str
    data_dir: Path
    process: subprocess.Popen


def _run(args, *, env=None, what: str, timeout: int):
    try:
        done = subprocess.run(args, env=env, capture_output=True, text=True, timeout=timeout)
    except (OSError, subprocess.TimeoutExpired) as error:
        raise LabelStudioUnavailable(f"{what} failed: {error}") from error
    if done.returncode != 0:
        raise LabelStudioUnavailable(f"{what} failed (exit {done.returncode}):\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}")
    return done


def ensure_venv() -> Path:
    """The Label Studio virtualenv; a marker file says the install finished (a cut one is redone)."""
    binary, done = VENV / "bin" / "label-studio", VENV / f".wb-complete-{LABEL_STUDIO_VERSION}"
    if done.exists():
        return binary
    CACHE.mkdir(parents=True, exist_ok=True)
    shutil.rmtree(VENV, ignore_errors=True)
    _run(["python3.11", "-m", "venv", str(VENV)], what="creating the Label Studio virtualenv", timeout=300)
    _run([str(VENV / "bin" / "pip"), "install", "-q", f"label-studio=={LABEL_STUDIO_VERSION}"],
         what=f"pip install label-studio=={LABEL_STUDIO_VERSION} into {VENV}", timeout=1800)
    done.touch()
    return binary


def _env(data_dir: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_", "LABEL_STUDIO_"))}
    env.pop("DATABASE_URL", None)
    env.update(QUIET_ENV, LABEL_STUDIO_BASE_DATA_DIR=str(data_dir))
    return env


def ensure_template(binary: Path) -> Path:
    """A migrated data folder with the two users (cached: the first migration takes minutes)."""
    if (TEMPLATE / "label_studio.sqlite3").exists():
        return TEMPLATE
    building = Path(tempfile.mkdtemp(prefix="labelstudio-template-", dir=CACHE))
    for email, password, token in (LEAD, RATER):
        _run([str(binary), "init", "--quiet", "--username", email, "--password", password,
              "--user-token", token, "--enable-legacy-api-token"],
             env=_env(building), what=f"label-studio init (user {email})", timeout=1200)
    try:
        building.rename(TEMPLATE)
    except OSError:  # another session made it meanwhile
        shutil.rmtree(building, ignore_errors=True)
    return TEMPLATE


def _free_port() -> int:
    for port in PORTS:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) != 0:
                return port
    raise LabelStudioUnavailable(f"no free port in {PORTS.start}-{PORTS.stop - 1} for Label Studio")


def start(timeout: float = 240) -> LiveLabelStudio:
    binary = ensure_venv()
    template = ensure_template(binary)
    data_dir = Path(tempfile.mkdtemp(prefix="wb-labelstudio-"))
    shutil.copytree(template, data_dir, dirs_exist_ok=True)
    port = _free_port()
    log = open(data_dir / "server.log", "w")
    process = subprocess.Popen(
        [str(binary), "start", "--no-browser", "--internal-host", "127.0.0.1", "--port", str(port)],
        env=_env(data_dir), stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise LabelStudioUnavailable(f"Label Studio exited ({process.returncode}) while starting; log:\n"
                                         + (data_dir / "server.log").read_text()[-3000:])
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=2) as reply:
                if reply.status == 200:
                    return LiveLabelStudio(url=url, lead_token=LEAD[2], rater_token=RATER[2],
                                           data_dir=data_dir, process=process)
        except OSError:
            time.sleep(1)
    stop_process(process)
    raise LabelStudioUnavailable(f"Label Studio did not answer {url}/health within {timeout:.0f} s; log:\n"
                                 + (data_dir / "server.log").read_text()[-3000:])


def stop_process(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def stop(live: LiveLabelStudio) -> None:
    stop_process(live.process)
    shutil.rmtree(live.data_dir, ignore_errors=True)


if __name__ == "__main__":
    if sys.argv[1:] == ["--prepare"]:  # ./run test: build the cached virtualenv and data template up front
        try:
            ensure_template(ensure_venv())
        except LabelStudioUnavailable as error:
            sys.exit(f"Label Studio: {error}")
        sys.exit(0)
    live = start()
    print(f"Label Studio at {live.url}\n  lead token {live.lead_token}\n  second user token {live.rater_token}")
    try:
        live.process.wait()
    except KeyboardInterrupt:
        stop(live)
