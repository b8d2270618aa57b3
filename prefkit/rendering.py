"""Render untrusted model output (Markdown) to HTML that is safe to show raters.

Two layers. Markdown (CommonMark, by markdown-it-py) runs with raw HTML turned off, so any HTML a
model wrote is shown as text: raters judge what the model actually said, and a ``<script>`` in an
answer is visible rather than silently dropped. Then nh3 (ammonia) keeps only an allow-list of
tags, attributes and URL schemes, which also catches anything Markdown itself produced, such as
``[x](javascript:…)`` links.

The dialect: CommonMark with GitHub's tables, every newline a line break (chat replies are written
that way), fenced code highlighted by Pygments when it names a language. No strikethrough, no
autolinking of bare URLs, no typographic replacements.
"""

import functools
import re

import nh3
from markdown_it import MarkdownIt
from markdown_it.common.utils import escapeHtml, unescapeAll
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import get_lexer_by_name
from pygments.util import ClassNotFound

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
    "ol": {"start"},
}
URL_SCHEMES = {"http", "https", "mailto"}
LINK_REL = "noopener noreferrer nofollow"

_CODE_FORMATTER = HtmlFormatter(cssclass=HIGHLIGHT_CLASS, wrapcode=True)


@functools.lru_cache(maxsize=128)
def _lexer(name: str):
    try:
        return get_lexer_by_name(name)
    except ClassNotFound:
        return None


def _fence(renderer, tokens, idx, options, env) -> str:
    """A fenced code block: highlighted with CSS classes when its info string names a language
    Pygments knows (never guessed), otherwise shown as it is."""
    token = tokens[idx]
    info = unescapeAll(token.info).split(maxsplit=1)
    lexer = _lexer(info[0]) if info else None
    if lexer is None:
        return f"<pre><code>{escapeHtml(token.content)}</code></pre>\n"
    return highlight(token.content, lexer, _CODE_FORMATTER)


@functools.cache
def _markdown() -> MarkdownIt:
    # Rendering keeps no state in the instance (each call parses into its own state), so one serves all.
    md = MarkdownIt("commonmark", {"html": False, "breaks": True}).enable("table")
    md.add_render_rule("fence", _fence)
    # Every link goes through: nh3 is the one place URL schemes are checked, so a
    # [click](javascript:…) link keeps its text and loses its href, as any other bad link does.
    md.validateLink = lambda url: True
    return md


@functools.cache
def _cleaner() -> nh3.Cleaner:
    # Built once: nh3.clean() converts the allow-lists for every call, half of its time on a short text.
    return nh3.Cleaner(
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel=LINK_REL,
        strip_comments=True,
    )


def _clean(html: str) -> str:
    return _cleaner().clean(html)


def render_markdown(text: str) -> str:
    """Return sanitized HTML for the Markdown text; code blocks are highlighted with CSS classes."""
    return _clean(_markdown().render(text)).rstrip("\n")


# --- Plain prose: the same HTML without running Markdown ------------------------------------------
# Most model replies hold no Markdown at all, and for them the result is known: paragraphs at blank
# lines, <br> at every other newline, spaces at line ends dropped, & and > escaped. A text is plain
# when it has none of the characters Markdown gives a meaning to inline (` * _ [ ] < | \, and & in
# front of what could be an entity), no whitespace but ' ' and newline (Markdown and nh3 treat the
# others in their own ways), and no line that could open a block: an indent, a heading (#), a quote
# (>), a fence (~), a list item, rule or setext underline ('-', '+' or '=' followed by a space, one
# of those, or the line's end; '-Word' is text) or a numbered item ('12.' or '12)' followed by a
# space or the line's end). Tests check, byte for byte, that render_markdown gives the same.
_MARKUP_CHARS = re.compile(r"[`*_\[\]<|\\\t\r\x00-\x08\x0b-\x1f\x7f\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]")
_ENTITY = re.compile(r"&(?:#|[A-Za-z0-9]+;)")
_BLOCK = r"(?:[ #>~]|[-+=](?=[ \-+=\n]|\Z)|\d+[.)](?=[ \n]|\Z))"
_FIRST_LINE_BLOCK = re.compile(_BLOCK)
_LATER_LINE_BLOCK = re.compile(r"\n" + _BLOCK)  # a literal first character: searched fast
_PARAGRAPH_BREAK = re.compile(r" *\n(?: *\n)+")
_LINE_END_SPACES = re.compile(r" +\n")


def _is_plain(text: str) -> bool:
    return not (_MARKUP_CHARS.search(text) or _FIRST_LINE_BLOCK.match(text) or _LATER_LINE_BLOCK.search(text)
                or ("&" in text and _ENTITY.search(text)))


def _render_plain(text: str) -> str:
    """render_markdown(text) for plain prose (see _is_plain). nh3 has nothing to remove from it."""
    text = text.strip(" \n")
    if " \n" in text:
        text = _LINE_END_SPACES.sub("\n", text)
    text = text.replace("&", "&amp;").replace(">", "&gt;")
    if "\n\n" not in text:  # one paragraph: most replies
        return "<p>" + text.replace("\n", "<br>\n") + "</p>" if text else ""
    return "\n".join(["<p>" + p.replace("\n", "<br>\n") + "</p>" for p in _PARAGRAPH_BREAK.split(text) if p])


def render_markdown_many(texts) -> list[str]:
    """Return render_markdown(text) for each text, several times faster on a batch.

    Imports render thousands of texts: plain prose skips Markdown and nh3 (tests check that the
    result is byte for byte the same), and a text repeated within the batch is rendered once.
    """
    done: dict[str, str] = {}
    out = []
    for text in texts:
        html = done.get(text)
        if html is None:
            html = done[text] = _render_plain(text) if _is_plain(text) else render_markdown(text)
        out.append(html)
    return out


def pygments_css() -> str:
    """Return the stylesheet for highlighted code blocks (the ``.highlight`` class)."""
    return HtmlFormatter(style="default").get_style_defs(f".{HIGHLIGHT_CLASS}")
