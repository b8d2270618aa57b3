"""A lead scores a held-out file of pairs from the model page: the upload reaches the scoring job,
a file over the import limit gets the readable 413 page, and a missing file is named in the form."""
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from tests.conftest import PASSWORD
from tests.training.conftest import TINY, build_export
from webapp.runs.models import Job
from webapp.runs.services import job_run
from webapp.training import services
from webapp.training.models import RewardModel

pytestmark = pytest.mark.slow


@pytest.fixture
def trained(db):
    """A tiny model trained from the export (a few steps, seconds on a CPU), and its held-out split."""
    world = build_export()
    job = services.training_request(project=world.project, actor=world.carol, enqueue=False,
                                    values={"export": world.export.pk, **TINY})
    job = job_run(job_id=job.pk)
    assert job.state == "succeeded", job.error
    world.model = RewardModel.objects.get(job=job)
    world.held_out = world.export_dir / "test.jsonl"
    return world


def _lead(**options) -> Client:
    client = Client(**options)
    assert client.login(username="carol", password=PASSWORD)
    return client


def _pairs_file(world, name="held_out.jsonl") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, world.held_out.read_bytes(), content_type="application/jsonl")


def test_a_lead_scores_an_uploaded_file_of_pairs_from_the_model_page(trained, settings):
    response = _lead().post(f"/models/{trained.model.pk}/score/", {"what": "file", "pairs": _pairs_file(trained)})
    assert response.status_code == 302, response.content.decode()[:2000]
    job = Job.objects.get(kind="scoring")
    assert response["Location"] == f"/scores/{job.pk}/"
    stored = Path(job.params["pairs"])
    assert stored.parent == (Path(settings.WB_SCORE_DIR) / "uploads").resolve()
    assert stored.read_bytes() == trained.held_out.read_bytes()
    assert job.params["count"] == len(trained.held_out.read_text().splitlines()) and not job.params["held_out"]


def test_an_upload_spooled_to_disk_is_copied_to_the_job_unchanged(trained, settings):
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 1024  # Django keeps it in a temporary file, read back in chunks
    data = trained.held_out.read_bytes() * 200  # several of Django's 64 KB chunks
    assert len(data) > 3 * 64 * 1024
    response = _lead().post(f"/models/{trained.model.pk}/score/",
                            {"what": "file", "pairs": SimpleUploadedFile("many.jsonl", data)})
    assert response.status_code == 302
    assert Path(Job.objects.get(kind="scoring").params["pairs"]).read_bytes() == data


def test_an_interrupted_copy_keeps_nothing(settings, tmp_path):
    settings.WB_SCORE_DIR = str(tmp_path)

    def chunks():
        yield b'{"prompt": "p", "chosen": "a", "rejected": "b"}\n'
        raise OSError("connection reset")

    with pytest.raises(OSError):
        services.store_upload(chunks(), "pairs.jsonl")
    assert list((tmp_path / "uploads").iterdir()) == []


def test_the_score_form_checks_csrf_after_taking_the_upload(trained):
    client = _lead(enforce_csrf_checks=True)
    url = f"/models/{trained.model.pk}/score/"
    assert client.post(url, {"what": "file", "pairs": _pairs_file(trained)}).status_code == 403
    client.get(f"/models/{trained.model.pk}/")
    response = client.post(url, {"what": "file", "pairs": _pairs_file(trained),
                                 "csrfmiddlewaretoken": client.cookies["csrftoken"].value})
    assert response.status_code == 302 and Job.objects.filter(kind="scoring").count() == 1


@pytest.mark.parametrize("copies, says", [
    (1, "the uploaded files are over"),  # within the multipart allowance: stopped while it streams in
    (100, "(WB_MAX_IMPORT_BYTES)"),  # past it: refused from Content-Length before a byte is read
], ids=["streamed", "declared"])
def test_a_file_over_the_import_limit_gets_the_readable_413_page_and_no_job(trained, settings, copies, says):
    settings.WB_MAX_IMPORT_BYTES = trained.held_out.stat().st_size - 1
    data = trained.held_out.read_bytes() * copies
    response = _lead().post(f"/models/{trained.model.pk}/score/",
                            {"what": "file", "pairs": SimpleUploadedFile("big.jsonl", data)})
    assert response.status_code == 413
    text = response.content.decode()
    assert "That was too large" in text and "Nothing was saved" in text and says in text
    assert not Job.objects.filter(kind="scoring").exists()
    uploads = Path(settings.WB_SCORE_DIR) / "uploads"
    assert not uploads.exists() or not any(uploads.iterdir())  # nothing of the file kept


def test_a_missing_file_is_named_in_the_form(trained):
    response = _lead().post(f"/models/{trained.model.pk}/score/", {"what": "file"})
    assert response.status_code == 400
    text = response.content.decode()
    assert 'id="score-error"' in text and "choose a file of pairs to score" in text
    assert not Job.objects.filter(kind="scoring").exists()


def test_a_file_with_a_missing_field_is_refused_by_line_and_not_kept(trained, settings):
    broken = SimpleUploadedFile("broken.jsonl", b'{"prompt": "p", "chosen": "a", "rejected": "b"}\n'
                                                b'{"prompt": "p", "chosen": "a"}\n')
    response = _lead().post(f"/models/{trained.model.pk}/score/", {"what": "file", "pairs": broken})
    assert response.status_code == 400
    assert "line 2: missing field" in response.content.decode() and not Job.objects.filter(kind="scoring").exists()
    assert not any((Path(settings.WB_SCORE_DIR) / "uploads").iterdir())  # the refused file is not kept
