"""Provenance pages: a judgment traced to its rater, guideline version, import batch and responses."""
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.conftest import PASSWORD, acknowledge, extra_raters
from webapp.accounts.services import user_create
from webapp.comparisons.models import Judgment
from webapp.comparisons.services import assignment_next, judgment_submit
from webapp.guidelines.services import guideline_publish
from webapp.projects.services import project_create

pytestmark = pytest.mark.django_db


def judge(world, who, *, key: str = "k1", choice: str = "left", **answer) -> Judgment:
    """Lease the next task for `who` (a persona name or a user) and submit a judgment on it."""
    rater = getattr(world, who) if isinstance(who, str) else who
    assignment = assignment_next(project=world.project, rater=rater)
    judgment, created = judgment_submit(assignment_id=assignment.pk, rater=rater, choice=choice,
                                        idempotency_key=key, **answer)
    assert created
    return judgment


@pytest.fixture
def judgment(world):
    acknowledge(world, "alice")
    return judge(world, "alice", rationale="The left one adds up.", flags=["unsafe"], active_ms=4200)


def page(client, user, judgment_id: int):
    assert client.login(username=user.get_username(), password=PASSWORD)
    return client.get(reverse("judgment-provenance", args=[judgment_id]))


def text_of(response) -> str:
    assert response.status_code == 200
    return response.content.decode()


def test_it_shows_admins_the_raters_username(client, world, judgment):
    html = text_of(page(client, world.dave, judgment.pk))
    assert "alice" in html
    assert world.alice.profile.pseudonym in html


def test_it_shows_leads_the_pseudonym_and_never_the_username(client, world, judgment):
    response = page(client, world.carol, judgment.pk)
    html = text_of(response)
    assert world.alice.profile.pseudonym in html
    assert "alice" not in html.lower()
    assert response.context["p"].rater.label == world.alice.profile.pseudonym
    comparison_html = text_of(client.get(reverse("comparison-provenance", args=[judgment.comparison_id])))
    assert world.alice.profile.pseudonym in comparison_html
    assert "alice" not in comparison_html.lower()


def test_it_hides_provenance_from_raters_outsiders_and_other_leads(client, world, judgment):
    urls = [reverse("judgment-provenance", args=[judgment.pk]),
            reverse("comparison-provenance", args=[judgment.comparison_id])]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    frank = user_create(username="frank", role="lead", password=PASSWORD)
    project_create(slug="other", name="Other project", actor=frank)
    # alice is the rater of this very judgment: raters see no provenance pages at all.
    for user in (world.alice, world.bob, world.eve, frank):
        assert client.login(username=user.get_username(), password=PASSWORD)
        for url in urls:
            assert client.get(url).status_code == 404, (user, url)
        client.logout()


def test_it_answers_404_for_a_judgment_that_does_not_exist(client, world, judgment):
    assert page(client, world.dave, judgment.pk + 1000).status_code == 404


def test_it_shows_the_guideline_batch_and_responses_it_came_from(client, world, judgment):
    html = text_of(page(client, world.dave, judgment.pk))
    batch = judgment.comparison.batch
    assert world.guideline.sha256 in html
    assert "<h1>Rules</h1>" in html and "Pick the more helpful answer." in html
    assert batch.sha256 in html and batch.file_name in html and batch.format in html
    assert 'class="model-name">model-a<' in html and 'class="model-name">model-b<' in html
    assert "Question 0: what is 0 + 0?" in html
    assert "The left one adds up." in html and "Unsafe content" in html and "4200 ms" in html


def test_it_keeps_showing_the_version_the_rater_saw_after_a_new_one(client, world, judgment):
    newer = guideline_publish(project=world.project, body_md="# Rules\n\nNew rule: prefer brevity.",
                              change_note="second", author=world.carol)
    html = text_of(page(client, world.dave, judgment.pk))
    assert world.guideline.sha256 in html and "Guideline v1" in html
    assert newer.sha256 not in html and "prefer brevity" not in html


def test_it_shows_the_display_order_and_the_choice_both_ways(client, world, judgment):
    response = page(client, world.dave, judgment.pk)
    p = response.context["p"]
    left = "A" if judgment.display_order == "AB" else "B"
    assert (p.display_order, p.left_side) == (judgment.display_order, left)
    assert (p.choice, p.choice_displayed) == (left.lower(), "left")  # the rater picked the left side
    html = text_of(response)
    assert f"response {left} was shown on the left" in html
    assert [r.side for r in response.context["responses"]] == [left, "B" if left == "A" else "A"]


def test_it_links_a_correction_and_the_judgment_it_replaces(client, world, judgment):
    correction, created = judgment_submit(assignment_id=judgment.assignment_id, rater=world.alice, choice="tie",
                                          idempotency_key="k2")
    assert created and correction.supersedes_id == judgment.pk
    original = text_of(page(client, world.dave, judgment.pk))
    assert f'id="superseded-by">judgment #{correction.pk}<' in original
    replacement = text_of(client.get(reverse("judgment-provenance", args=[correction.pk])))
    assert f'id="supersedes">judgment #{judgment.pk}<' in replacement


def test_it_lists_a_comparisons_judgments_linking_to_their_pages(client, world, judgment):
    acknowledge(world, "bob")
    second = judge(world, "bob", choice="right")
    assert second.comparison_id == judgment.comparison_id
    assert client.login(username="dave", password=PASSWORD)
    response = client.get(reverse("comparison-provenance", args=[judgment.comparison_id]))
    html = text_of(response)
    for j in (judgment, second):
        assert f'href="{reverse("judgment-provenance", args=[j.pk])}"' in html
    assert [row.rater.label for row in response.context["p"].judgments] == ["alice", "bob"]
    assert judgment.comparison.batch.sha256 in html


def test_it_reads_a_comparison_in_the_same_queries_however_many_judgments(client, world, judgment):
    assert client.login(username="carol", password=PASSWORD)
    url = reverse("comparison-provenance", args=[judgment.comparison_id])
    client.get(url)  # session and auth warm-up
    with CaptureQueriesContext(connection) as one:
        text_of(client.get(url))
    for rater in extra_raters(world, 2):
        judge(world, rater, key=f"k-{rater.pk}")
    with CaptureQueriesContext(connection) as three:
        response = client.get(url)
    assert len(response.context["p"].judgments) == 3
    assert len(three) == len(one)
