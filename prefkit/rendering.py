"""Render untrusted model output (Markdown) to HTML that is safe to show raters.

Two layers. Markdown runs with raw HTML turned off, so any HTML a model wrote is
shown as text: raters judge what the model actually said, and a ``<script>``
in an answer is visible rather than silently dropped. Then nh3 (ammonia) keeps
only an allow-list of tags, attributes and URL schemes, which also catches
anything Markdown itself produced, such as ``[x](javascript:…)`` links.
"""

import markdown
import nh3
from markdown.extensions import Extension
from pygments.formatters import HtmlFormatter

HIGHLIGHT_CLASS = "highlight"

ALLOWED_TAGS = {
    "p", "br", "hr", "pre", "code", "span", "div", "em", "strong", "b", "i", "del", "sup", "sub",
    "ul", "ol", "li", "blockquote", "h1", "h2", "h3", "h4", "h5", "h6",
    "table", "thead", "tbody", "tr", "th", "td", "a",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {
    "span": {"class"},
    "div": {"class"},
    "code": {"class"},
    "pre": {"class"},
    "a": {"href", "title"},
}
URL_SCHEMES = {"http", "https", "mailto"}
LINK_REL = "noopener noreferrer nofollow"


class _EscapeRawHtml(Extension):
    """Treat raw HTML blocks and inline tags as text, so they are escaped, not passed through."""

    def extendMarkdown(self, md):
        md.preprocessors.deregister("html_block")
        md.inlinePatterns.deregister("html")


def render_markdown(text: str) -> str:
    """Return sanitized HTML for the Markdown text; code blocks are highlighted with CSS classes."""
    # A Markdown instance keeps state between conversions and is not thread-safe: one per call.
    converter = markdown.Markdown(
        extensions=[_EscapeRawHtml(), "fenced_code", "codehilite", "tables", "sane_lists", "nl2br"],
        extension_configs={"codehilite": {"css_class": HIGHLIGHT_CLASS, "guess_lang": False}},
    )
    return nh3.clean(
        converter.convert(text),
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel=LINK_REL,
        strip_comments=True,
    )


def pygments_css() -> str:
    """Return the stylesheet for highlighted code blocks (the ``.highlight`` class)."""
    return HtmlFormatter(style="default").get_style_defs(f".{HIGHLIGHT_CLASS}")
