import io

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction
from django.test import Client

from tests.conftest import PASSWORD
from webapp.core.errors import Conflict, ValidationFailed
from webapp.guidelines.models import Acknowledgement, GuidelineVersion, body_sha256
from webapp.guidelines.services import guideline_acknowledge, guideline_publish

pytestmark = pytest.mark.django_db


def test_it_numbers_versions_and_hashes_their_body(world):
    v2 = guideline_publish(project=world.project, body_md="# Two", change_note="clarify ties", author=world.carol)
    assert (v2.number, v2.sha256) == (2, body_sha256("# Two"))


def test_it_refuses_an_empty_guideline(world):
    with pytest.raises(ValidationFailed):
        guideline_publish(project=world.project, body_md="  \n", change_note="", author=world.carol)


def test_it_publishes_with_lf_line_endings_whatever_the_caller_sent(world):
    version = guideline_publish(project=world.project, body_md="# Two\r\n\r\nRule.\rEnd.", change_note="crlf",
                                author=world.carol)

    assert version.body_md == "# Two\n\nRule.\nEnd."
    assert version.sha256 == body_sha256("# Two\n\nRule.\nEnd.")


def test_it_refuses_text_identical_to_the_current_version(world):
    with pytest.raises(Conflict, match="identical to v1"):
        guideline_publish(project=world.project, body_md=world.guideline.body_md.replace("\n", "\r\n"),
                          change_note="same again", author=world.carol)
    assert GuidelineVersion.objects.filter(project=world.project).count() == 1


def test_it_refuses_a_change_note_over_the_column_instead_of_cutting_it(world):
    with pytest.raises(ValidationFailed, match="change note is 501 characters") as refused:
        guideline_publish(project=world.project, body_md="# Two", change_note="x" * 501, author=world.carol)
    assert refused.value.field == "change_note"


def test_it_refuses_to_publish_over_a_newer_version_than_the_editor_had(world):
    guideline_publish(project=world.project, body_md="# Two", change_note="two", author=world.dave)
    with pytest.raises(Conflict, match="v2 was published by dave") as refused:
        guideline_publish(project=world.project, body_md="# Mine", change_note="mine", author=world.carol, based_on=1)
    assert refused.value.field == "based_on"


def test_it_refuses_identical_text_on_the_command_line(world, tmp_path):
    same = tmp_path / "same.md"
    same.write_bytes(world.guideline.body_md.replace("\n", "\r\n").encode())

    with pytest.raises(CommandError, match="identical to v1"):
        call_command("publish_guideline", "demo", str(same), "--note", "again", stdout=io.StringIO())
    assert GuidelineVersion.objects.filter(project=world.project).count() == 1


def test_it_refuses_an_overlong_note_on_the_command_line(world, tmp_path):
    text = tmp_path / "v2.md"
    text.write_text("# Two\n")

    with pytest.raises(CommandError, match="change note"):
        call_command("publish_guideline", "demo", str(text), "--note", "n" * 600, stdout=io.StringIO())


def test_it_refuses_to_change_a_published_version_through_the_orm(world):
    version = GuidelineVersion.objects.get(pk=world.guideline.pk)
    version.body_md = "rewritten history"
    with pytest.raises(TypeError):
        version.save()
    with pytest.raises(TypeError):
        GuidelineVersion.objects.filter(pk=version.pk).update(body_md="rewritten")


def test_it_refuses_to_change_a_published_version_in_raw_sql(world):
    with pytest.raises(DatabaseError, match="immutable"), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("UPDATE guidelines_guidelineversion SET body_md = 'x' WHERE id = %s", [world.guideline.pk])
    assert GuidelineVersion.objects.get(pk=world.guideline.pk).body_md.startswith("# Rules")


def test_it_accepts_only_the_current_version_for_acknowledgement(world):
    guideline_publish(project=world.project, body_md="# Two", change_note="", author=world.carol)
    with pytest.raises(Conflict, match="not the current"):
        guideline_acknowledge(user=world.alice, project=world.project, number=1)
    guideline_acknowledge(user=world.alice, project=world.project, number=2)
    guideline_acknowledge(user=world.alice, project=world.project, number=2)  # idempotent
    assert Acknowledgement.objects.filter(user=world.alice).count() == 1


def test_it_sends_a_rater_to_read_a_new_version_before_the_next_task(world):
    browser = Client()
    browser.login(username="alice", password=PASSWORD)
    assert browser.get("/p/demo/").url == "/p/demo/guideline/"
    browser.post("/p/demo/guideline/", {"version": "1"})
    assert browser.get("/p/demo/").status_code == 200
    guideline_publish(project=world.project, body_md="# Two\n\nNew rule.", change_note="new rule", author=world.carol)
    assert browser.get("/p/demo/").url == "/p/demo/guideline/"
    page = browser.get("/p/demo/guideline/").content.decode()
    assert "A new version of the guideline was published" in page and "New rule." in page
    assert GuidelineVersion.objects.get(project=world.project, number=2).sha256[:12] in page


def test_it_refuses_edits_in_the_admin(world):
    admin = Client()
    admin.login(username="dave", password=PASSWORD)
    url = f"/admin/guidelines/guidelineversion/{world.guideline.pk}/change/"
    assert admin.get(url).status_code == 200  # viewable
    admin.post(url, {"body_md": "hacked", "change_note": "x"})
    assert GuidelineVersion.objects.get(pk=world.guideline.pk).body_md.startswith("# Rules")
    assert admin.post(f"/admin/guidelines/guidelineversion/{world.guideline.pk}/delete/", {"post": "yes"}).status_code == 403
