"""The architecture's boundaries, checked in fresh interpreters (the test process has Django loaded)."""
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def loaded_after(code: str) -> set[str]:
    """Run `code` in a fresh interpreter; return the top-level packages it left in sys.modules."""
    script = f"{code}\nimport json, sys\nprint(json.dumps(sorted({{m.split('.')[0] for m in sys.modules}})))"
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    return set(json.loads(result.stdout.splitlines()[-1]))


def test_it_keeps_the_pure_packages_free_of_django_and_celery():
    loaded = loaded_after(
        "import pkgutil, importlib, exporters, rm_training, prefkit\n"
        "for module in pkgutil.walk_packages(prefkit.__path__, 'prefkit.'):\n"
        "    importlib.import_module(module.name)"
    )

    assert {"exporters", "rm_training", "prefkit", "markdown_it", "nh3"} <= loaded
    assert not loaded & {"django", "celery", "kombu", "webapp"}


def test_it_starts_no_celery_when_webapp_is_imported():
    loaded = loaded_after("import webapp")

    assert "webapp" in loaded
    assert not loaded & {"celery", "django"}


def test_it_makes_the_configured_celery_app_current_in_django_processes():
    loaded = loaded_after(
        "import os; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'webapp.settings')\n"
        "import django; django.setup()\n"
        "from celery import current_app\n"
        "assert current_app.main == 'webapp', current_app.main\n"
        "from webapp.runs.tasks import job_run_task\n"
        "from django.conf import settings\n"
        "assert job_run_task.app.main == 'webapp'\n"
        "assert job_run_task.app.conf.broker_url == settings.CELERY_BROKER_URL"
    )

    assert "celery" in loaded


def test_it_keeps_the_import_linter_contracts():
    # ./run test checks them before pytest too; this keeps a plain `pytest` run honest.
    lint = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run([str(lint), "--no-cache"], capture_output=True, text=True, cwd=ROOT)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout
