"""What changes on screen without a reload: the rater's progress and highlighted answer, and the
lead's import status and progress bar (real Chromium; the import runs on a real Celery worker)."""
import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import SCREENSHOTS, axe_violations
from tests.browser.test_rater_flow import log_in, submit
from tests.conftest import acknowledge, add_comparisons, comparisons_jsonl, make_world

pytestmark = pytest.mark.browser

ACCENT = "rgb(36, 87, 197)"       # --accent (--err is rgb(179, 38, 30))
CHECKED_BG = "rgb(227, 236, 255)"  # a checked option's label
PLAIN_BG = "rgb(255, 255, 255)"


def style(page, selector: str, prop: str) -> str:
    return page.eval_on_selector(selector, f"el => getComputedStyle(el).{prop}")


def option(kind: str, value: str) -> str:
    return f'#judge-form label:has(input[name="{kind}"][value="{value}"])'


def test_the_rater_sees_the_chosen_answer_and_progress_that_keeps_up(live_server, open_browser):
    world = make_world(scale="four_level", overlap=1, n_comparisons=3, allow_both_bad=True)
    acknowledge(world, "alice")
    page = open_browser("alice")
    log_in(page, live_server.url, "alice", path="/p/demo/")
    expect(page.locator("#task")).to_be_visible()
    expect(page.locator("h1")).to_have_text("Demo project")
    expect(page.locator("#done-today")).to_have_text("0")
    expect(page.locator("#done-count")).to_have_text("0")
    expect(page.locator("#remaining")).to_have_text("3")
    assert "none" == style(page, "#left-side", "boxShadow") == style(page, "#right-side", "boxShadow")
    expect(page.locator("#left-side .pick")).to_be_hidden()

    page.keyboard.press("ArrowLeft")
    assert ACCENT in style(page, "#left-side", "boxShadow")
    assert style(page, "#right-side", "boxShadow") == "none"
    expect(page.locator("#left-side .pick")).to_be_visible()
    assert style(page, option("choice", "left"), "backgroundColor") == CHECKED_BG
    assert style(page, option("choice", "right"), "backgroundColor") == PLAIN_BG
    page.keyboard.press("3")
    assert style(page, option("strength", "3"), "backgroundColor") == CHECKED_BG
    assert {style(page, option("strength", v), "backgroundColor") for v in "124"} == {PLAIN_BG}
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "task-chosen.png"), full_page=True)
    page.keyboard.press("ArrowRight")  # change of mind: the highlight follows
    assert ACCENT in style(page, "#right-side", "boxShadow") and style(page, "#left-side", "boxShadow") == "none"
    expect(page.locator("#right-side .pick")).to_be_visible()
    expect(page.locator("#left-side .pick")).to_be_hidden()
    page.keyboard.press("b")  # both bad: both responses marked in red
    assert {style(page, side, "boxShadow") for side in ("#left-side", "#right-side")} == {"rgb(179, 38, 30) 0px 0px 0px 2px"}
    assert style(page, option("choice", "both_bad"), "backgroundColor") == CHECKED_BG
    page.locator(option("choice", "left")).click()  # the mouse too
    assert ACCENT in style(page, "#left-side", "boxShadow") and style(page, "#right-side", "boxShadow") == "none"

    # Pairs imported while the rater works show up in "left in the queue" after the next submit:
    # the counts come from the server, not only from counting on the page.
    add_comparisons(world.project, 2, actor=world.carol, start=50)
    submit(page)
    expect(page.locator("#done-today")).to_have_text("1")
    expect(page.locator("#done-count")).to_have_text("1")
    expect(page.locator("#remaining")).to_have_text("4")
    assert page.eval_on_selector("#task", "el => el.dataset.choice") == ""  # a new pair starts unchosen
    assert style(page, "#left-side", "boxShadow") == "none"

    for _ in range(3):
        page.keyboard.press("ArrowLeft")
        page.keyboard.press("1")
        submit(page)
    page.keyboard.press("ArrowLeft")
    page.keyboard.press("1")
    with page.expect_response(lambda r: r.url.endswith("/assignments/next")) as last:
        page.keyboard.press("Enter")
    assert last.value.status == 204
    expect(page.locator("#status")).to_contain_text("All done")
    expect(page.locator("#done-count")).to_have_text("5")
    expect(page.locator("#remaining")).to_have_text("0")


def test_the_lead_watches_an_import_finish_without_reloading(live_server, open_browser, tmp_path, axe_source):
    from celery.contrib.testing.worker import start_worker

    from webapp.celery import app

    world = make_world(overlap=1, n_comparisons=2)
    acknowledge(world, "alice")
    upload = tmp_path / "more-pairs.jsonl"
    upload.write_bytes(comparisons_jsonl(3, start=100))
    page = open_browser("carol")
    log_in(page, live_server.url, "carol", path="/lead/demo/")
    expect(page.locator("#total-count")).to_have_text("2")
    page.set_input_files("#import-file", str(upload))
    with page.expect_navigation():
        page.click("form.import-form button[type=submit]")
    expect(page.locator(".messages")).to_contain_text("updates by itself")
    row = page.locator("#batches tbody tr").first
    expect(row).to_contain_text("more-pairs.jsonl")
    expect(row.locator(".state")).to_have_text("pending")  # no worker yet
    page.evaluate("window.__same_page = true")

    with start_worker(app, pool="solo", perform_ping_check=False, loglevel="WARNING", shutdown_timeout=30):
        expect(row.locator(".state")).to_have_text("done", timeout=30_000)
    expect(row.locator(".created")).to_have_text("3")
    expect(row).to_have_attribute("data-status", "done")
    expect(page.locator("#total-count")).to_have_text("5")
    expect(page.locator("#import-news")).to_have_text(re.compile(r"more-pairs\.jsonl: imported, 3 new"))
    assert page.evaluate("window.__same_page") is True  # updated in place, never reloaded
    assert page.eval_on_selector("#progress-bar", "el => [el.value, el.max]") == [0, 5]
    assert axe_violations(page, axe_source) == []  # the page as updated in place, message included
