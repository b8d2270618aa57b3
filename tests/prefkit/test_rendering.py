import json
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

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
    pieces = ["word", " ", "\n", "\n\n", "1.", "-", "*", "_", "`", "#", "> ", "    ", "\t", "é", "\u00a0", "\u2028",
              "'", '"', ":", ".", "!", "![x](y)", "!!", "<b>", "&amp;", "|", "=", "+", "[x](y)", "  \n", " \n", " ", "\r\n", "2)"]
    texts = _fixture_texts() + ["".join(rng.choice(pieces) for _ in range(rng.randint(0, 14))) for _ in range(3000)]
    assert sum(map(_is_plain, texts)) > 300  # the fast path is exercised, not only the fallback
    assert render_markdown_many(texts) == [render_markdown(text) for text in texts]
