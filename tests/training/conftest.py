"""A project with a few dozen judged comparisons and a finished TRL export: what a lead trains on."""
import json
import time
from types import SimpleNamespace

import pytest

from tests.conftest import acknowledge, add_comparisons, judge_canonical, make_world
from webapp.exports import services as export_services
from webapp.runs.models import Job
from webapp.runs.services import job_run

PAIRS = 32
# A few optimizer steps on short inputs: enough to move the weights and draw a curve, seconds on a CPU.
TINY = {"max_steps": 4, "batch_size": 4, "max_length": 48, "eval_fraction": 0, "learning_rate": 1e-4, "save_steps": 2}


@pytest.fixture(autouse=True)
def _own_folders(settings, tmp_path):
    settings.WB_EXPORT_DIR = tmp_path / "exports"
    settings.WB_MODEL_DIR = tmp_path / "models"
    settings.WB_SCORE_DIR = tmp_path / "scores"


def build_export(*, format: str = "trl-standard", test_fraction: float = 0.25):
    world = make_world(overlap=1, n_comparisons=0)
    add_comparisons(world.project, PAIRS, actor=world.carol)
    acknowledge(world, "alice")
    for _ in range(PAIRS):
        judge_canonical(world.project, world.alice, "a")  # the right sum always wins: learnable
    export = export_services.export_request(project=world.project, actor=world.carol, enqueue=False,
                                            values={"format": format, "test_fraction": test_fraction, "seed": 1})
    export = job_run(job_id=export.pk)
    assert export.state == "succeeded", export.error
    return SimpleNamespace(**vars(world), export=export, export_dir=export_services.export_dir(export))


@pytest.fixture
def exported(db):
    return build_export()


@pytest.fixture
def exported_tx(transactional_db):
    return build_export()


def wait_finished(job_id, timeout=300):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = Job.objects.get(pk=job_id)
        if job.is_finished:
            return job
        time.sleep(0.2)
    raise AssertionError(f"job {job_id} still {job.state} after {timeout} s")


def read_jsonl(path):
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
