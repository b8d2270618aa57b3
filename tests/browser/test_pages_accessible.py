"""Every page a rater, a lead or an admin opens: no axe-core violation (WCAG 2 A/AA and best practices)
at desktop width and at 390 px, no horizontal overflow at 390 px, and a screenshot at that width
(var/screenshots/390/) for a person to look at."""
import json

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import PHONE, SCREENSHOTS, axe_violations, horizontal_overflow
from tests.browser.test_rater_flow import log_in
from tests.conftest import PASSWORD, acknowledge, make_world
from webapp.accounts.services import user_create
from webapp.comparisons import services
from webapp.comparisons.imports import import_file, import_request
from webapp.comparisons.models import Comparison, ImportBatch, Judgment
from webapp.comparisons.quiz import quiz_attempt_submit, quiz_questions, quiz_set
from webapp.guidelines.services import guideline_acknowledge, guideline_publish
from webapp.projects.services import membership_add

pytestmark = pytest.mark.browser

DESKTOP = {"width": 1280, "height": 900}
# Content that breaks narrow layouts: a long code line, an unbroken URL-like word, a wide table.
LONG_CODE = "total = " + " + ".join(f"measurement_{i}" for i in range(40))
LONG_WORD = "https://example.org/" + "segment" * 30
WIDE_TABLE = "| " + " | ".join(f"column {i}" for i in range(12)) + " |\n|" + "---|" * 12 + "\n| " + " | ".join(
    f"value {i}" for i in range(12)) + " |"
GUIDELINE_V2 = """# Rules

Pick the more helpful answer.

- Prefer answers that are **correct**.
- Prefer the shorter answer when both are correct.

```python
# a long line in a code block must not widen a phone's page
""" + LONG_CODE + "\n```\n"


def wide_pairs(n: int) -> bytes:
    lines = []
    for i in range(n):
        lines.append(json.dumps({
            "prompt": [{"role": "user", "content": f"Question {i}: sum the measurements. {LONG_WORD}"},
                       {"role": "assistant", "content": "Which ones?"}, {"role": "user", "content": "All of them."}],
            "response_a": {"text": f"Like this:\n\n```python\n{LONG_CODE}\n```\n\n{WIDE_TABLE}\n\nSee {LONG_WORD}",
                           "model": "model-a"},
            "response_b": {"text": f"It is {i}.", "model": "model-b"},
            "gold": "a", "id": f"wide-{i}",
        }))
    return ("\n".join(lines) + "\n").encode()


def busy_world():
    """A project with judgments, disagreement, two guideline versions, a quiz, and imports in every state."""
    world = make_world(scale="four_level", allow_both_bad=True, overlap=2, n_comparisons=0)
    import_file(project=world.project, data=wide_pairs(8), file_name="wide-pairs.jsonl", actor=world.carol)
    acknowledge(world, "alice", "bob")
    for rater, side in ((world.alice, "left"), (world.bob, "right"), (world.alice, "left"), (world.bob, "left")):
        assignment = services.assignment_next(project=world.project, rater=rater)
        services.judgment_submit(assignment_id=assignment.pk, rater=rater, choice=side, strength=3,
                                 rationale="The left one shows its working.", flags=["unsafe"],
                                 idempotency_key=f"{rater.pk}-{assignment.pk}")
    v2 = guideline_publish(project=world.project, body_md=GUIDELINE_V2, change_note="prefer short correct answers",
                           author=world.carol)
    gold = list(Comparison.objects.filter(project=world.project).order_by("-id").values_list("pk", flat=True)[:2])
    quiz = quiz_set(version=v2, comparison_ids=gold, threshold=1.0, actor=world.carol)
    guideline_acknowledge(user=world.alice, project=world.project, number=v2.number)
    quiz_attempt_submit(quiz=quiz, user=world.alice, answers={
        q.comparison.pk: "left" if q.left_is_a else "right" for q in quiz_questions(quiz=quiz, user=world.alice)})
    frank = user_create(username="frank", role="rater", password=PASSWORD)  # acknowledged v2, quiz not taken yet
    membership_add(project=world.project, user=frank, actor=world.carol)
    guideline_acknowledge(user=frank, project=world.project, number=v2.number)
    import_request(project=world.project, data=b'{"not": "a comparison"}\n', file_name="broken.jsonl", actor=world.carol)
    world.frank, world.v2 = frank, v2
    return world


def pages_by_person(world) -> dict[str, list[tuple[str, str]]]:
    judgment = Judgment.objects.filter(rater=world.alice).order_by("id").first()
    return {
        "alice": [  # rater
            ("/", "h1"), ("/p/demo/guideline/", "#guideline-body"), ("/p/demo/", "#task:not([hidden])"),
            ("/p/demo/mine/", "table"), (f"/p/demo/mine/{judgment.pk}/", "#judged-left"),
            ("/lead/demo/", "h1"),  # not theirs: the "not allowed" page
        ],
        "bob": [("/p/demo/guideline/", "#acknowledge")],  # rater who has not read v2 yet
        "frank": [("/p/demo/quiz/", "#quiz-form")],      # rater before the onboarding quiz
        "carol": [  # data lead
            ("/", "h1"), ("/lead/demo/", "#progress-bar"), ("/lead/demo/guidelines/", "#versions"),
            ("/lead/demo/guidelines/diff/?from=1&to=2", "#rendered-diff"), ("/lead/demo/guidelines/new/", "#body_md"),
            ("/lead/demo/requeue/", "#requeue-form"), ("/lead/demo/quiz/", "h1"), ("/audit/?project=demo", "#audit-events"),
            (f"/provenance/judgments/{judgment.pk}/", "#judgment"),
            (f"/provenance/comparisons/{judgment.comparison_id}/", "#judgments"),
            (f"/provenance/imports/{ImportBatch.objects.order_by('id').first().pk}/", "h1"),
            ("/lead/demo/jobs/", "h1"), ("/lead/demo/export/", "h1"), ("/lead/demo/diagnostics/", "#probe-suites"),
            (f"/jobs/{ImportBatch.objects.exclude(job=None).order_by('id').first().job_id}/", "h1"),
        ],
        "dave": [("/audit/", "#chain-status"), (f"/provenance/judgments/{judgment.pk}/", "#judgment")],  # admin
    }


def check_page(page, url: str, ready: str, axe_source: str, shot: str) -> list[str]:
    """Open `url` at 390 px and at desktop width; return every problem found, as readable lines."""
    problems = []
    page.set_viewport_size(PHONE)
    page.goto(url)
    expect(page.locator(ready).first).to_be_visible()
    overflow = horizontal_overflow(page)
    if overflow:
        problems.append(f"{url}: wider than a 390 px screen: {overflow}")
    page.screenshot(path=str(SCREENSHOTS / "390" / f"{shot}.png"), full_page=True)
    problems += axe_violations(page, axe_source)
    page.set_viewport_size(DESKTOP)
    problems += [f"(desktop) {line}" for line in axe_violations(page, axe_source)]
    return problems


def test_every_page_passes_axe_and_fits_a_390px_screen(live_server, open_browser, axe_source):
    world = busy_world()
    (SCREENSHOTS / "390").mkdir(parents=True, exist_ok=True)
    problems = []

    anonymous = open_browser("anonymous", viewport=PHONE)
    anonymous.goto(f"{live_server.url}/login/")
    expect(anonymous.locator('input[name="username"]')).to_be_focused()
    problems += check_page(anonymous, f"{live_server.url}/login/", "form", axe_source, "login")

    for person, pages in pages_by_person(world).items():
        page = open_browser(person, viewport=PHONE)
        log_in(page, live_server.url, person)
        for path, ready in pages:
            shot = f"{person}-" + (path.strip("/").replace("/", "-").split("?")[0] or "home")
            problems += check_page(page, live_server.url + path, ready, axe_source, shot)

    assert not problems, "\n".join(problems)


def test_axe_check_reports_a_violation(live_server, open_browser, axe_source):
    """The check itself works: a page with an unlabeled field and no h1 is reported."""
    make_world(n_comparisons=0)
    page = open_browser("carol")
    log_in(page, live_server.url, "carol")
    page.evaluate("""() => {
        document.querySelector("h1").remove();
        document.querySelector("main").append(document.createElement("input"));
    }""")
    found = " ".join(axe_violations(page, axe_source))
    assert "[label," in found and "[page-has-heading-one," in found, found


def test_the_task_page_stacks_the_responses_on_a_phone(live_server, open_browser):
    world = make_world(n_comparisons=0)
    import_file(project=world.project, data=wide_pairs(2), file_name="wide.jsonl", actor=world.carol)
    acknowledge(world, "alice")
    page = open_browser("alice", viewport=PHONE)
    log_in(page, live_server.url, "alice", path="/p/demo/")
    expect(page.locator("#task")).to_be_visible()
    left, right = page.locator("#left-side").bounding_box(), page.locator("#right-side").bounding_box()
    assert right["y"] >= left["y"] + left["height"], (left, right)  # one above the other, not side by side
    for box in (left, right):
        assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], box
    assert horizontal_overflow(page) is None
    # The long code line wraps or scrolls inside its response, which a keyboard can reach.
    assert page.evaluate("document.getElementById('left-side').tabIndex") == 0
    page.screenshot(path=str(SCREENSHOTS / "390" / "task-stacked.png"), full_page=True)


def test_login_page_rejects_the_wrong_password_accessibly(live_server, open_browser, axe_source):
    make_world(n_comparisons=0)
    page = open_browser("alice", viewport=PHONE)
    page.goto(f"{live_server.url}/login/")
    page.fill('input[name="username"]', "alice")
    page.fill('input[name="password"]', PASSWORD + "x")
    page.click("button[type=submit]")
    expect(page.locator("[role=alert]")).to_contain_text("Wrong username or password")
    assert axe_violations(page, axe_source) == []


def test_lead_forms_in_their_other_states_pass_axe(live_server, open_browser, axe_source):
    """The quiz form (no quiz set yet) and the editor showing a refused publish."""
    make_world(n_comparisons=2)
    page = open_browser("carol", viewport=PHONE)
    log_in(page, live_server.url, "carol")
    problems = check_page(page, f"{live_server.url}/lead/demo/quiz/", "#quiz-form", axe_source, "carol-quiz-form")
    page.goto(f"{live_server.url}/lead/demo/guidelines/new/")
    page.fill("#change_note", "no change at all")
    with page.expect_navigation():
        page.click("#publish")  # the text is v1's: refused, with an error on the page
    expect(page.locator("[role=alert]")).to_contain_text("identical")
    problems += axe_violations(page, axe_source)
    assert horizontal_overflow(page) is None
    assert not problems, "\n".join(problems)
