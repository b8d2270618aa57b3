"""The rater's side end to end in a real Chromium: log in, acknowledge, judge from the keyboard."""
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.conftest import PASSWORD, acknowledge, make_world
from webapp.comparisons import services
from webapp.comparisons.imports import import_file
from webapp.comparisons.models import Assignment, Comparison, Judgment
from webapp.guidelines.models import Acknowledgement
from webapp.guidelines.services import guideline_publish

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "var" / "screenshots"

pytestmark = pytest.mark.browser


def log_in(page, base_url: str, username: str, *, path: str = "/") -> None:
    """Open `path`, get sent to the log-in form, and fill it in from the keyboard."""
    with page.expect_response(lambda r: r.url.endswith("/static/wb/app.css")) as stylesheet:
        page.goto(base_url + path)
    assert stylesheet.value.ok, f"static files are not served: {stylesheet.value.url} -> HTTP {stylesheet.value.status}"
    expect(page).to_have_url(re.compile(r"/login/"))
    expect(page.locator('input[name="username"]')).to_be_focused()
    page.keyboard.type(username)
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(page.locator(".who")).to_have_text(username)


def _is_next(response) -> bool:
    return response.url.endswith("/assignments/next") and response.request.method == "POST"


def _is_judgment(response) -> bool:
    return response.url.endswith("/judgment")


def _is_skip(response) -> bool:
    return response.url.endswith("/skip")


def next_task_after(page, press: str) -> dict:
    """Press a key that leads to the next task; wait until it is rendered and return its payload."""
    with page.expect_response(_is_next) as served:
        page.keyboard.press(press)
    assert served.value.status == 200, served.value.text()
    expect(page.locator("#task")).to_be_visible()
    return served.value.json()


def submit(page, expected_status: int = 201) -> dict:
    """Press Enter on a complete answer; return the next task's payload once it is on screen."""
    with page.expect_response(_is_judgment) as saved:
        task = next_task_after(page, "Enter")
    assert saved.value.status == expected_status, saved.value.text()
    return task


def canonical(displayed: str, display_order: str) -> str:
    if displayed == "left":
        return "a" if display_order == "AB" else "b"
    if displayed == "right":
        return "b" if display_order == "AB" else "a"
    return displayed


def assert_shown_as_recorded(task: dict, judgment: Judgment) -> None:
    """The text the rater saw on the left is canonical A exactly when display_order says AB."""
    comparison = Comparison.objects.select_related("response_a", "response_b").get(pk=judgment.comparison_id)
    left = comparison.response_a if judgment.display_order == "AB" else comparison.response_b
    assert task["left"]["text"] == left.text


def test_it_lets_a_rater_log_in_acknowledge_and_judge_with_only_the_keyboard(live_server, open_browser):
    world = make_world(scale="four_level", allow_both_bad=True, n_comparisons=5)
    page = open_browser("alice")

    log_in(page, live_server.url, "alice", path="/p/demo/")
    expect(page).to_have_url(f"{live_server.url}/p/demo/guideline/")
    expect(page.locator("#guideline-body")).to_contain_text("Pick the more helpful answer.")
    expect(page.locator("#acknowledge")).to_be_focused()
    first = next_task_after(page, "Enter")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "task.png"), full_page=True)
    expect(page.locator("#done-count")).to_have_text("0")
    expect(page.locator("#strengths input")).to_have_count(4)
    expect(page.locator("#both-bad-option")).to_be_visible()
    expect(page.locator("#tie-option")).to_be_hidden()  # four_level has no tie

    page.keyboard.press("ArrowLeft")
    page.keyboard.press("Enter")  # no strength yet: refused on the page, nothing sent
    expect(page.locator("#form-error")).to_contain_text("Choose a strength")
    page.keyboard.press("3")
    second = submit(page)
    expect(page.locator("#done-count")).to_have_text("1")

    for key in ("ArrowRight", "2", "u", "r"):
        page.keyboard.press(key)
    expect(page.locator("#rationale")).to_be_focused()
    page.keyboard.type("The left one invents a fact.")
    page.keyboard.press("Escape")
    expect(page.locator("#rationale")).not_to_be_focused()
    third = submit(page)

    page.keyboard.press("b")
    fourth = submit(page)
    expect(page.locator("#done-count")).to_have_text("3")

    page.keyboard.press("s")
    expect(page.locator("#skip-reason")).to_be_focused()
    page.keyboard.type("I cannot read this language")
    with page.expect_response(_is_skip) as skipped:
        next_task_after(page, "Enter")
    assert skipped.value.status == 200
    expect(page.locator("#done-count")).to_have_text("3")

    judgments = {j.assignment_id: j for j in Judgment.objects.filter(rater=world.alice).select_related("assignment")}
    assert set(judgments) == {first["assignment_id"], second["assignment_id"], third["assignment_id"]}
    expected = {
        first["assignment_id"]: ("left", 3, [], ""),
        second["assignment_id"]: ("right", 2, ["unsafe"], "The left one invents a fact."),
        third["assignment_id"]: ("both_bad", None, [], ""),
    }
    for assignment_id, (displayed, strength, flags, rationale) in expected.items():
        judgment = judgments[assignment_id]
        assert (judgment.choice_displayed, judgment.strength, judgment.flags, judgment.rationale) == (
            displayed, strength, flags, rationale)
        assert judgment.display_order == judgment.assignment.display_order
        assert judgment.choice == canonical(displayed, judgment.display_order)
        assert judgment.guideline_version_id == world.guideline.pk
        assert judgment.active_ms is not None and judgment.active_ms >= 0
        assert judgment.assignment.status == Assignment.Status.SUBMITTED
    assert_shown_as_recorded(first, judgments[first["assignment_id"]])
    assert_shown_as_recorded(second, judgments[second["assignment_id"]])
    assert Acknowledgement.objects.filter(user=world.alice, version=world.guideline).exists()
    skipped_row = Assignment.objects.get(pk=fourth["assignment_id"])
    assert (skipped_row.status, skipped_row.skip_reason) == (Assignment.Status.SKIPPED, "I cannot read this language")
    assert not Judgment.objects.filter(assignment=skipped_row).exists()


def test_it_renders_the_xss_demo_inert_with_highlighted_code(live_server, open_browser):
    world = make_world(overlap=1, n_comparisons=0)
    import_file(project=world.project, data=(ROOT / "fixtures" / "xss_demo.jsonl").read_bytes(),
                file_name="xss_demo.jsonl", actor=world.carol)
    acknowledge(world, "alice")
    page = open_browser("alice")
    alerts = []
    page.on("dialog", lambda dialog: (alerts.append(dialog.message), dialog.dismiss()))

    log_in(page, live_server.url, "alice")
    with page.expect_response(_is_next) as served:
        page.goto(f"{live_server.url}/p/demo/")
    task = served.value.json()
    payload_side = "left" if "__xss" in task["left"]["text"] else "right"
    side = page.locator(f"#{payload_side}")
    expect(side.locator(".highlight .k").first).to_have_text("def")
    page.wait_for_load_state("networkidle")  # an injected <img src=x> would have failed to load by now

    assert page.evaluate("typeof window.__xss") == "undefined"
    assert alerts == []
    expect(side).to_contain_text("<script>window.__xss=1</script>")  # shown as text, as the model wrote it
    assert side.locator(".highlight span").count() > 10
    expect(side.locator(".highlight .k").first).to_have_css("color", "rgb(0, 128, 0)")  # pygments CSS applied
    live = page.evaluate("""() => {
        const found = {scripts: 0, handlers: [], links: [], media: 0};
        for (const box of document.querySelectorAll("#left, #right, #prompt")) {
            found.scripts += box.querySelectorAll("script").length;
            found.media += box.querySelectorAll("img, iframe, object, embed, svg").length;
            for (const el of box.querySelectorAll("*")) {
                for (const attr of el.attributes) if (/^on/i.test(attr.name)) found.handlers.push(attr.name);
            }
            for (const a of box.querySelectorAll("a[href]")) if (!/^https?:|^mailto:/i.test(a.href)) found.links.push(a.href);
        }
        return found;
    }""")
    assert live == {"scripts": 0, "handlers": [], "links": [], "media": 0}
    expect(page.locator("#right a[href^='https://docs.python.org'], #left a[href^='https://docs.python.org']")).to_have_count(1)

    comparison = Comparison.objects.select_related("response_a").get(project=world.project)
    assert "__xss" in comparison.response_a.text
    lease = Assignment.objects.get(rater=world.alice)
    assert (lease.pk, lease.comparison_id, lease.status) == (task["assignment_id"], comparison.pk, Assignment.Status.LEASED)


def test_it_asks_for_a_new_acknowledgement_when_the_guideline_changes(live_server, open_browser):
    world = make_world(n_comparisons=3)
    acknowledge(world, "alice")
    page = open_browser("alice")
    log_in(page, live_server.url, "alice")
    with page.expect_response(_is_next):
        page.goto(f"{live_server.url}/p/demo/")
    expect(page.locator("#task")).to_be_visible()
    expect(page.locator("#strength-set")).to_be_hidden()  # binary_tie asks for no strength
    expect(page.locator("#both-bad-option")).to_be_hidden()
    page.keyboard.press("ArrowLeft")
    submit(page)

    v2 = guideline_publish(project=world.project, body_md="# Rules v2\n\nPrefer the shorter correct answer.",
                           change_note="prefer brevity", author=world.carol)
    page.goto(f"{live_server.url}/p/demo/")
    expect(page).to_have_url(f"{live_server.url}/p/demo/guideline/")
    expect(page.locator(".guideline .meta strong")).to_have_text("v2")
    expect(page.locator(".notice")).to_contain_text("A new version of the guideline was published")
    expect(page.locator("#guideline-body")).to_contain_text("Prefer the shorter correct answer.")
    expect(page.locator("#acknowledge")).to_be_focused()
    task = next_task_after(page, "Enter")
    assert task["guideline"]["version"] == 2
    page.keyboard.press("t")
    submit(page)

    assert Acknowledgement.objects.filter(user=world.alice, version=v2).exists()
    before, after = Judgment.objects.filter(rater=world.alice).select_related("guideline_version").order_by("id")
    assert (before.guideline_version.number, before.choice_displayed) == (1, "left")
    assert (after.assignment_id, after.guideline_version_id, after.choice) == (task["assignment_id"], v2.pk, "tie")
    assert Assignment.objects.get(pk=task["assignment_id"]).guideline_version_id == v2.pk


def test_it_shows_raters_only_their_own_judgments(live_server, open_browser):
    world = make_world(n_comparisons=3)
    acknowledge(world, "alice", "bob")
    for i, rater, note in [(1, world.bob, "bob private note one"), (2, world.bob, "bob private note two"),
                           (3, world.alice, "alice own note")]:
        assignment = services.assignment_next(project=world.project, rater=rater)
        services.judgment_submit(assignment_id=assignment.pk, rater=rater, choice="tie", rationale=note,
                                 idempotency_key=f"key-{i}")
    bob_ids = set(Judgment.objects.filter(rater=world.bob).values_list("pk", flat=True))
    alice_ids = set(Judgment.objects.filter(rater=world.alice).values_list("pk", flat=True))
    assert len(bob_ids) == 2 and len(alice_ids) == 1

    alice = open_browser("alice")
    log_in(alice, live_server.url, "alice", path="/p/demo/mine/")
    rows = alice.locator("table.grid tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("alice own note")
    shown = alice.locator("table.grid tbody tr").evaluate_all("rows => rows.map((row) => row.dataset.judgment)")
    assert {int(pk) for pk in shown} == alice_ids
    expect(alice.locator("main")).not_to_contain_text("bob private note")

    eve = open_browser("eve")
    log_in(eve, live_server.url, "eve")
    for path in ("/p/demo/", "/p/demo/mine/", "/p/demo/guideline/"):
        assert eve.goto(f"{live_server.url}{path}").status == 404, path
    expect(eve.locator("body")).not_to_contain_text("Demo project")
    assert not Assignment.objects.filter(rater=world.eve).exists()
