"""The rendered guideline diff: the block diff (a pure function) and the page that renders it."""
import re

import pytest
from django.test import Client

from tests.conftest import PASSWORD
from webapp.guidelines.diff import BlockRow, diff_blocks, markdown_blocks
from webapp.guidelines.services import guideline_publish


def test_it_splits_markdown_at_blank_lines():
    assert markdown_blocks("# Title\n\nFirst para\nstill first.\n\n\n- a\n- b\n") == [
        "# Title", "First para\nstill first.", "- a\n- b"]


def test_it_keeps_a_fenced_code_block_with_blank_lines_whole():
    text = "Intro\n\n```python\nx = 1\n\ny = 2\n```\n\n~~~\n\n~~~\nAfter"
    assert markdown_blocks(text) == ["Intro", "```python\nx = 1\n\ny = 2\n```", "~~~\n\n~~~\nAfter"]


def test_it_shows_a_changed_block_as_removed_then_added_in_place():
    old = "# Rules\n\nPick the more helpful answer.\n\nBe kind."
    new = "# Rules\n\nPick the more helpful, correct answer.\n\nBe kind.\n\n- New rule"
    assert diff_blocks(old, new) == [
        BlockRow("equal", "# Rules"),
        BlockRow("delete", "Pick the more helpful answer."),
        BlockRow("insert", "Pick the more helpful, correct answer."),
        BlockRow("equal", "Be kind."),
        BlockRow("insert", "- New rule"),
    ]


def test_identical_texts_have_only_equal_blocks():
    assert {row.kind for row in diff_blocks("a\n\nb", "a\n\nb")} == {"equal"}


@pytest.mark.django_db
def test_the_diff_page_renders_the_markdown_of_changed_blocks(world):
    guideline_publish(project=world.project, author=world.carol, change_note="stress correctness",
                      body_md="# Rules\n\nPick the **correct** answer.\n\n- cite sources\n- be brief\n")
    client = Client()
    assert client.login(username="carol", password=PASSWORD)
    body = client.get("/lead/demo/guidelines/diff/", {"from": 1, "to": 2}).content.decode()
    rendered = body[body.index('id="rendered-diff"'):body.index('id="diff"')]
    assert re.search(r'<div class="block"><h1>Rules</h1>', rendered)  # unchanged, rendered
    removed = re.search(r'block-del"><span class="block-tag">removed in v2</span><del class="block-body">(.*?)</del>',
                        rendered, re.S)
    assert removed and "<p>Pick the more helpful answer.</p>" in removed.group(1)
    added = re.findall(r'block-ins"><span class="block-tag">added in v2</span><ins class="block-body">(.*?)</ins>',
                       rendered, re.S)
    assert "<strong>correct</strong>" in added[0] and "<li>cite sources</li>" in added[1]
    assert "**correct**" not in rendered  # Markdown is rendered here; the raw text is in the line diff below
    assert "**correct**" in body[body.index('id="diff"'):]


@pytest.mark.django_db
def test_the_rendered_diff_is_sanitized(world):
    guideline_publish(project=world.project, author=world.carol, change_note="x",
                      body_md="# Rules\n\n<script>alert(1)</script><img src=x onerror=alert(2)>\n")
    client = Client()
    assert client.login(username="carol", password=PASSWORD)
    body = client.get("/lead/demo/guidelines/diff/", {"from": 1, "to": 2}).content.decode()
    rendered = body[body.index('id="rendered-diff"'):body.index('id="diff"')]
    assert "<script" not in rendered and "<img" not in rendered  # shown as text at most, never as markup
