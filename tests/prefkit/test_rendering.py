import json
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from prefkit.rendering import pygments_css, render_markdown

ROOT = Path(__file__).resolve().parents[2]


class _Elements(HTMLParser):
    """Collect (tag, attrs) of every live element in an HTML fragment."""

    def __init__(self, html: str):
        super().__init__()
        self.elements = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, dict(attrs)))


def live_elements(html: str) -> list[tuple[str, dict]]:
    return _Elements(html).elements


def assert_inert(html: str) -> None:
    for tag, attrs in live_elements(html):
        assert tag not in {"script", "img", "iframe", "style", "object", "embed", "svg", "form", "input"}
        assert not any(name.startswith("on") or name == "style" for name in attrs)
        assert not attrs.get("href", "").strip().lower().startswith(("javascript:", "data:", "vbscript:"))


def test_it_highlights_fenced_code_with_css_classes():
    html = render_markdown("```python\ndef add(a, b):\n    return a + b\n```")

    assert '<div class="highlight">' in html
    assert '<span class="k">def</span>' in html
    assert "style=" not in html


def test_it_leaves_a_fence_without_language_unhighlighted():
    html = render_markdown("```\nplain <b>text</b>\n```")

    assert "<code>plain &lt;b&gt;text&lt;/b&gt;\n</code>" in html


def test_it_shows_raw_html_as_text():
    html = render_markdown('<script>window.__xss=1</script><img src=x onerror="window.__xss=1">')

    assert_inert(html)
    assert "&lt;script&gt;window.__xss=1&lt;/script&gt;" in html
    assert [tag for tag, _ in live_elements(html)] == ["p"]


def test_it_removes_javascript_links():
    html = render_markdown("[click](javascript:window.__xss=1) [data](data:text/html;base64,PHNjcmlwdD4=)")

    assert_inert(html)
    assert "javascript:" not in html
    assert ">click</a>" in html


def test_it_keeps_a_normal_link_with_a_safe_rel():
    html = render_markdown('See [the docs](https://example.com/docs "Docs").')

    assert live_elements(html)[1] == (
        "a",
        {"href": "https://example.com/docs", "title": "Docs", "rel": "noopener noreferrer nofollow"},
    )


def test_it_keeps_mailto_links():
    html = render_markdown("[write](mailto:team@example.com)")

    assert 'href="mailto:team@example.com"' in html


def test_it_renders_the_xss_demo_fixture_inert():
    record = json.loads((ROOT / "fixtures" / "xss_demo.jsonl").read_text(encoding="utf-8"))

    html = render_markdown(record["response_a"]["text"])

    assert_inert(html)
    assert '<span class="k">def</span>' in html
    assert "<a rel=\"noopener noreferrer nofollow\">click</a>" in html


def test_it_renders_lists_tables_and_line_breaks():
    html = render_markdown("1. one\n2. two\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\nline one\nline two")
    tags = [tag for tag, _ in live_elements(html)]

    assert tags.count("li") == 2
    assert {"ol", "table", "thead", "tbody", "th", "td", "br"} <= set(tags)


def test_it_drops_style_attributes_from_aligned_tables():
    html = render_markdown("| a | b |\n|:--|--:|\n| 1 | 2 |")

    assert "<td>1</td>" in html
    assert "style" not in html


def test_it_provides_css_for_highlighted_code():
    css = pygments_css()

    assert ".highlight .k {" in css


def test_it_imports_no_django():
    code = "import sys, prefkit.rendering; assert 'django' not in sys.modules and 'webapp' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


# --- The dialect: CommonMark, tables, a line break at every newline --------------------------------


def test_it_renders_a_list_that_follows_a_line_of_text():
    # Chat replies often write "Here are some ideas:" and the list on the next line.
    html = render_markdown("Here are some ideas:\n- bake\n- read\n\nThen:\n1. one\n2. two")

    assert [tag for tag, _ in live_elements(html)].count("li") == 4
    assert "<p>Here are some ideas:</p>\n<ul>\n<li>bake</li>" in html


def test_it_keeps_the_number_an_ordered_list_starts_at():
    html = render_markdown("3. three\n4. four")

    assert live_elements(html)[0] == ("ol", {"start": "3"})


def test_it_renders_emphasis_code_headings_quotes_and_rules():
    html = render_markdown("# Title\n\n*em* and **strong** and `x < y`\n\n> quoted\n\n---\n\n    indented code")

    assert "<h1>Title</h1>" in html
    assert "<p><em>em</em> and <strong>strong</strong> and <code>x &lt; y</code></p>" in html
    assert "<blockquote>\n<p>quoted</p>\n</blockquote>" in html
    assert "<hr>" in html and "<pre><code>indented code\n</code></pre>" in html


def test_it_breaks_lines_at_newlines_and_drops_trailing_spaces():
    assert render_markdown("one  \ntwo \nthree\n\nfour") == "<p>one<br>\ntwo<br>\nthree</p>\n<p>four</p>"


def test_it_leaves_tildes_and_bare_urls_as_text():
    html = render_markdown("~~not struck~~ about ~5 km, see https://example.com")

    assert html == "<p>~~not struck~~ about ~5 km, see https://example.com</p>"


def test_it_highlights_a_tilde_fence_and_shows_an_unknown_language_plainly():
    html = render_markdown("~~~python\nx = 1\n~~~\n\n```no-such-language\n<b>\n```")

    assert '<div class="highlight">' in html and '<span class="n">x</span>' in html
    assert "<pre><code>&lt;b&gt;\n</code></pre>" in html


@pytest.mark.parametrize("text", [
    "[a](javascript:alert(1))",
    "[a](JaVaScRiPt:alert(1))",
    "[a](javascript&#58;alert(1))",
    "[a](&#106;avascript:alert(1))",
    "[a](jav&#x09;ascript:alert(1))",
    "<javascript:alert(1)>",
    "[a](vbscript:msgbox(1))",
    "[a](data:text/html;base64,PHNjcmlwdD4=)",
    "[a]\n\n[a]: javascript:alert(1)",
    "![x](javascript:alert(1))",
    '[a](https://x.y "t\\" onmouseover=\\"alert(1)")',
    "- <script>alert(1)</script>\n- <iframe src=x>",
    "| <img src=x onerror=alert(1)> |\n|---|\n| <svg onload=alert(1)> |",
    "```\n</code></pre><script>alert(1)</script>\n```",
    "```python\n</code></pre><script>alert(1)</script>\n```",
])
def test_it_keeps_hostile_markdown_inert(text):
    html = render_markdown(text)

    assert_inert(html)
    assert "<script" not in html and "<iframe" not in html
    for _, attrs in live_elements(html):  # a link left is to a safe scheme, or relative (no scheme: "jav%09ascript:")
        assert urlsplit(attrs.get("href", "")).scheme in ("", "https", "mailto")


# --- Batch rendering (imports) ---------------------------------------------------------------------


def _fixture_texts() -> list[str]:
    from prefkit.formats import ImportReader, ParsedComparison

    texts = []
    root = __import__("pathlib").Path(__file__).resolve().parents[2] / "fixtures"
    for name in ("hh_rlhf_demo.jsonl", "llmfao_demo.jsonl", "xss_demo.jsonl", "hh_rlhf_real_edge_cases.jsonl"):
        for item in ImportReader((root / name).read_bytes(), file_name=name):
            if isinstance(item, ParsedComparison):
                texts += [m["content"] for m in item.prompt_messages] + [item.response_a.text, item.response_b.text]
    return texts


def test_it_renders_a_batch_exactly_as_one_text_at_a_time():
    import random

    from prefkit.rendering import _is_plain, render_markdown_many

    rng = random.Random(7)
    pieces = ["word", " ", "\n", "\n\n", "1.", "1)", "12.", "1976.", "3.x", "-", "- ", "-x", "--", "-\n", "+", "+x",
              "=", "=x", "==", "=\n", "*", "_", "`", "#", "a#b", "> ", ">", "a > b", "    ", "\t", "é", "\u00a0", "\u2028",
              "\x85", "\x9f", "\u200b", "\ufeff", "\U0001F600", "'", '"', ":", ".", "!", "![x](y)", "!!", "<b>", "&amp;",
              "&", "& ", "&#", "&x;", "AT&T", "|", "~", "~~", "~~~", "[x](y)", "  \n", " \n", " ", "\r\n", "2)",
              "http://x.y", "(c)", "..."]
    texts = _fixture_texts() + ["".join(rng.choice(pieces) for _ in range(rng.randint(0, 16))) for _ in range(6000)]
    assert sum(map(_is_plain, texts)) > 600  # the fast path is exercised, not only the fallback
    assert render_markdown_many(texts) == [render_markdown(text) for text in texts]
