"""The data lead's guideline pages: versions, editor with live preview, diff, acknowledgements."""
import re
import uuid

import pytest
from django.test import Client

from tests.conftest import PASSWORD, acknowledge
from webapp.audit.models import AuditEvent
from webapp.comparisons.models import Assignment
from webapp.comparisons.services import assignment_next, judgment_submit
from webapp.guidelines.models import GuidelineVersion, body_sha256
from webapp.guidelines.services import guideline_publish

pytestmark = pytest.mark.django_db

VERSIONS = "/lead/demo/guidelines/"
NEW = "/lead/demo/guidelines/new/"
PREVIEW = "/lead/demo/guidelines/preview"
DIFF = "/lead/demo/guidelines/diff/"


def logged_in(username: str, **options) -> Client:
    client = Client(**options)
    assert client.login(username=username, password=PASSWORD)
    return client


def publish_form(body: str, note: str = "clarify ties", base: int = 1) -> dict:
    return {"body_md": body, "change_note": note, "base": str(base)}


def judge(world, rater) -> None:
    assignment = assignment_next(project=world.project, rater=rater)
    judgment_submit(assignment_id=assignment.pk, rater=rater, choice="left", idempotency_key=str(uuid.uuid4()))


def correct(rater, assignment) -> None:
    judgment_submit(assignment_id=assignment.pk, rater=rater, choice="right", idempotency_key=str(uuid.uuid4()))


def test_it_publishes_a_new_version_from_the_editor(world):
    carol = logged_in("carol")
    editor = carol.get(NEW)
    assert editor.status_code == 200
    assert "Pick the more helpful answer." in editor.content.decode()  # prefilled with v1
    response = carol.post(NEW, publish_form("# Rules\r\n\r\nPrefer honest answers.\r\n"), follow=True)
    v2 = GuidelineVersion.objects.get(project=world.project, number=2)
    assert response.redirect_chain == [(VERSIONS, 302)]
    assert v2.body_md == "# Rules\n\nPrefer honest answers.\n"  # the browser's CRLF become LF
    assert v2.sha256 == body_sha256("# Rules\n\nPrefer honest answers.\n")
    assert (v2.author, v2.change_note) == (world.carol, "clarify ties")
    assert f"v2 sha256 {v2.sha256}" in response.content.decode()
    event = AuditEvent.objects.get(action="guideline.published", object_id=str(v2.pk))
    assert (event.actor, event.payload["sha256"], event.payload["number"]) == (world.carol, v2.sha256, 2)


def test_it_shows_an_error_and_publishes_nothing_when_the_body_is_empty(world):
    events = AuditEvent.objects.count()
    response = logged_in("carol").post(NEW, publish_form("  \r\n  ", note="oops"))
    assert response.status_code == 400
    assert "The guideline is empty" in response.content.decode()
    assert GuidelineVersion.objects.filter(project=world.project).count() == 1
    assert AuditEvent.objects.count() == events


def test_it_asks_for_a_change_note_and_keeps_the_text(world):
    response = logged_in("carol").post(NEW, publish_form("# Draft <b>kept</b>", note="  "))
    page = response.content.decode()
    assert response.status_code == 400 and "Add a change note" in page
    assert "# Draft &lt;b&gt;kept&lt;/b&gt;</textarea>" in page
    assert GuidelineVersion.objects.filter(project=world.project).count() == 1


def test_it_refuses_to_publish_over_a_version_published_while_editing(world):
    guideline_publish(project=world.project, body_md="# Two", change_note="someone else", author=world.dave)
    response = logged_in("carol").post(NEW, publish_form("# My edit of v1", base=1))
    page = response.content.decode()
    assert response.status_code == 400 and "v2 was published by dave while you were editing" in page
    assert "# My edit of v1</textarea>" in page and 'name="base" value="2"' in page
    assert GuidelineVersion.objects.filter(project=world.project).count() == 2


def test_it_refuses_to_publish_an_unchanged_text(world):
    response = logged_in("carol").post(NEW, publish_form(world.guideline.body_md))
    assert response.status_code == 400 and "identical to v1" in response.content.decode()
    assert GuidelineVersion.objects.filter(project=world.project).count() == 1


def test_it_previews_markdown_with_the_sanitizing_renderer(world):
    carol = logged_in("carol", enforce_csrf_checks=True)
    carol.get(NEW)
    token = carol.cookies["csrftoken"].value
    body = "**bold**\n\n<script>alert(1)</script>\n\n[click](javascript:alert(1))"
    response = carol.post(PREVIEW, {"body_md": body}, HTTP_X_CSRFTOKEN=token)
    html = response.json()["html"]
    assert response.status_code == 200 and "<strong>bold</strong>" in html
    assert "<script" not in html and "&lt;script&gt;" in html
    assert "javascript:" not in html and "click" in html


def test_it_requires_the_csrf_token_for_the_preview(world):
    response = logged_in("carol", enforce_csrf_checks=True).post(PREVIEW, {"body_md": "# x"})
    assert response.status_code == 403


def test_it_refuses_the_preview_to_raters_outsiders_and_anonymous_users(world):
    assert logged_in("alice").post(PREVIEW, {"body_md": "# x"}).status_code == 403
    assert logged_in("eve").post(PREVIEW, {"body_md": "# x"}).status_code == 404
    assert Client().post(PREVIEW, {"body_md": "# x"}).status_code == 401
    assert logged_in("dave").post(PREVIEW, {"body_md": "# x"}).status_code == 200  # admins: every project


@pytest.mark.parametrize("url", [VERSIONS, NEW, DIFF, f"{DIFF}?from=1&to=1"])
def test_it_refuses_lead_pages_to_raters_and_hides_them_from_outsiders(world, url):
    assert logged_in("alice").get(url).status_code == 403
    assert logged_in("alice").post(NEW, publish_form("# Mine")).status_code == 403
    assert logged_in("eve").get(url).status_code == 404
    assert Client().get(url).status_code == 302  # to the log-in page
    assert GuidelineVersion.objects.filter(project=world.project).count() == 1


def test_it_marks_added_and_removed_lines_in_the_diff(world):
    guideline_publish(project=world.project, body_md="Pick the more helpful answer.\nPrefer <b>honest</b> answers.",
                      change_note="honesty", author=world.carol)
    response = logged_in("carol").get(DIFF, {"from": 1, "to": 2})
    page = response.content.decode()
    assert response.status_code == 200
    assert re.search(r'<td class="text del"><del># Rules</del></td>', page)
    assert re.search(r'<td class="text ins"><ins>Prefer &lt;b&gt;honest&lt;/b&gt; answers\.</ins></td>', page)
    assert "<b>honest</b>" not in page  # user text is escaped, never rendered
    v1, v2 = GuidelineVersion.objects.filter(project=world.project).order_by("number")
    assert v1.sha256 in page and v2.sha256 in page


def test_it_diffs_the_last_two_versions_by_default_and_404s_on_unknown_ones(world):
    guideline_publish(project=world.project, body_md="# Rules\n\nNew line.", change_note="", author=world.carol)
    carol = logged_in("carol")
    assert "Guideline v1 → v2" in carol.get(DIFF).content.decode()
    assert carol.get(DIFF, {"from": 1, "to": 9}).status_code == 404
    assert carol.get(DIFF, {"from": "x"}).status_code == 404


def test_it_lists_every_version_with_its_full_sha256(world):
    v2 = guideline_publish(project=world.project, body_md="# Two", change_note="shorter", author=world.carol)
    page = logged_in("carol").get(VERSIONS).content.decode()
    assert world.guideline.sha256 in page and v2.sha256 in page
    assert "shorter" in page and f"{DIFF}?from=1&amp;to=2" in page
    assert f'href="{NEW}"' in page


def test_it_shows_pseudonyms_to_leads_and_usernames_to_admins(world):
    acknowledge(world, "alice")
    alice_pseudonym, bob_pseudonym = world.alice.profile.pseudonym, world.bob.profile.pseudonym
    lead_page = logged_in("carol").get(VERSIONS).content.decode()
    assert alice_pseudonym in lead_page and bob_pseudonym in lead_page  # bob is yet to acknowledge
    assert "alice" not in lead_page and "bob" not in lead_page
    acks = _section(lead_page, "acknowledgements")
    assert alice_pseudonym in acks and bob_pseudonym not in acks
    admin_page = logged_in("dave").get(VERSIONS).content.decode()
    assert "<td>alice</td>" in _section(admin_page, "acknowledgements") and alice_pseudonym in admin_page


def test_it_counts_live_and_superseded_judgments_per_version(world):
    acknowledge(world, "alice", "bob")
    judge(world, world.alice)
    judge(world, world.bob)
    correct(world.bob, Assignment.objects.get(rater=world.bob))
    guideline_publish(project=world.project, body_md="# Two", change_note="", author=world.carol)
    acknowledge(world, "alice")
    judge(world, world.alice)
    page = logged_in("carol").get(VERSIONS).content.decode()
    assert _counts(page, 1) == ("2", "1")  # alice's and bob's correction live; bob's first answer superseded
    assert _counts(page, 2) == ("1", "0")


def test_it_reads_the_versions_page_in_a_fixed_number_of_queries(world, django_assert_max_num_queries):
    for number in range(2, 6):
        guideline_publish(project=world.project, body_md=f"# v{number}", change_note="", author=world.carol)
        acknowledge(world, "alice", "bob")
    carol = logged_in("carol")
    with django_assert_max_num_queries(12):
        assert carol.get(VERSIONS).status_code == 200


def _section(page: str, table_id: str) -> str:
    start = page.index(f'id="{table_id}"')
    return page[start:page.index("</table>", start)]


def _counts(page: str, number: int) -> tuple[str, str]:
    row = page[page.index(f'<tr id="v{number}">'):]
    row = row[:row.index("</tr>")]
    live = re.search(r'class="judged-live">(\d+)<', row).group(1)
    superseded = re.search(r'class="judged-superseded muted">(\d+)<', row).group(1)
    return live, superseded
