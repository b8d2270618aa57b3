"""The guideline diff page renders the changed Markdown blocks as raters will read them."""
import re

import pytest
from django.test import Client

from tests.conftest import PASSWORD
from webapp.guidelines.services import guideline_publish


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
