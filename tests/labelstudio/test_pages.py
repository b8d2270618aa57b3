"""The project page's Label Studio card: upload, pull and push by a lead; tokens never shown back."""
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.conftest import PASSWORD, make_world
from webapp.comparisons.models import Judgment
from webapp.labelstudio.models import LabelStudioPush

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "labelstudio" / "pairwise_export_min.json"
pytestmark = pytest.mark.django_db


def _as(client, user):
    assert client.login(username=user.get_username(), password=PASSWORD)
    return client


def test_lead_uploads_an_export_from_the_project_page(client):
    world = make_world(n_comparisons=0)
    _as(client, world.carol)
    page = client.get("/lead/demo/")
    assert b'id="labelstudio"' in page.content and b'type="password" name="token"' in page.content
    reply = client.post("/lead/demo/labelstudio/upload/",
                        {"file": SimpleUploadedFile(FIXTURE.name, FIXTURE.read_bytes())}, follow=True)
    assert "5 judgments added" in reply.content.decode()
    assert Judgment.objects.filter(comparison__project=world.project, origin="external").count() == 5
    reply = client.post("/lead/demo/labelstudio/upload/",
                        {"file": SimpleUploadedFile("bad.json", b"[1, 2]")}, follow=True)
    assert "Nothing imported: bad.json: not a Label Studio export" in reply.content.decode()


def test_raters_cannot_use_it(client):
    world = make_world(n_comparisons=0)
    _as(client, world.alice)
    reply = client.post("/lead/demo/labelstudio/upload/", {"file": SimpleUploadedFile(FIXTURE.name,
                                                                                       FIXTURE.read_bytes())})
    assert reply.status_code == 403 and not Judgment.objects.exists()


def test_lead_pushes_and_pulls_from_the_page(client, live_label_studio):
    live = live_label_studio
    world = make_world(n_comparisons=3)
    _as(client, world.carol)
    reply = client.post("/lead/demo/labelstudio/push/", {"url": live.url, "token": live.lead_token}, follow=True)
    text = reply.content.decode()
    assert "Pushed 3 comparisons" in text and "guideline v1" in text and live.lead_token not in text
    push = LabelStudioPush.objects.get()
    reply = client.post("/lead/demo/labelstudio/pull/", {"url": live.url, "token": live.lead_token,
                                                         "ls_project": push.ls_project_id}, follow=True)
    assert "0 judgments added" in reply.content.decode()
    reply = client.post("/lead/demo/labelstudio/pull/", {"url": live.url, "token": "wrong-token-abcdef",
                                                         "ls_project": push.ls_project_id}, follow=True)
    text = reply.content.decode()
    assert "Nothing pulled" in text and "refused the token" in text and "wrong-token-abcdef" not in text
