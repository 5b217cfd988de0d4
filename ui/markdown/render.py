"""Markdown → HTML for QTextDocument, safe for untrusted model output.

Pure function, no Qt: any thread may call it (the GUI thread does, once per finished block).

QTextDocument understands only a subset of HTML/CSS, so the output sticks to what it renders
well: plain block elements, ``<table border cellpadding>``, inline ``style`` colours, and code
blocks as a one-cell table (a ``<pre>`` alone gets a background per line, not a box).

Safety: raw HTML is escaped (``html: False``), links survive only for http/https/mailto (the
rest become their text), and images become their alt text, so nothing is ever loaded.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from html import escape
from typing import Any

from markdown_it import MarkdownIt
from markdown_it.token import Token
from markdown_it.utils import EnvType, OptionsDict
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import get_lexer_by_name
from pygments.lexers.special import TextLexer
from pygments.util import ClassNotFound

ALLOWED_LINK_SCHEMES = ("http://", "https://", "mailto:")

# Translucent grey: reads as "a box" on light and on dark palettes alike.
CODE_BACKGROUND = "#1f808080"
INLINE_CODE_STYLE = "font-family: monospace; background-color: rgba(128,128,128,0.18);"
# Pygments styles whose token colours stay readable on the grey box for each palette.
_LIGHT_STYLE = "default"
_DARK_STYLE = "monokai"
# Headings one step smaller than QTextDocument's defaults (h1 is xx-large there).
_HEADING_SIZES = {
    "h1": "x-large",
    "h2": "large",
    "h3": "medium",
    "h4": "medium",
    "h5": "small",
    "h6": "small",
}


def is_allowed_link(url: str) -> bool:
    """True for the link targets the UI may ever open (checked again on click)."""
    return url.strip().lower().startswith(ALLOWED_LINK_SCHEMES)


def render_markdown(text: str, *, dark: bool = False) -> str:
    """Render untrusted markdown to HTML that QTextDocument shows well.

    ``dark`` picks code colours for a dark palette; everything else follows the palette.
    """
    # Qt turns whitespace after the last block into a trailing space: strip it.
    return _parser(dark).render(text).strip()


@lru_cache(maxsize=2)
def _parser(dark: bool) -> MarkdownIt:
    # breaks: a single newline is a line break, as chat apps show it. Models write lines
    # meant as lines (poems, addresses, steps without markup), and the reply's unfinished tail
    # streams as plain text with its line breaks: the finished render must not merge them.
    md = MarkdownIt("commonmark", {"html": False, "typographer": False, "breaks": True})
    md.enable(["table", "strikethrough"])
    # Let every link parse so the renderer can show a refused link as its text instead of
    # the raw "[text](javascript:...)" source; the scheme check happens in _link_open.
    md.validateLink = lambda url: True  # type: ignore[method-assign]
    formatter = HtmlFormatter(
        noclasses=True, nowrap=True, style=_DARK_STYLE if dark else _LIGHT_STYLE
    )

    def fence(
        self: Any, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
    ) -> str:
        token = tokens[idx]
        lang = token.info.strip().split(maxsplit=1)[0] if token.info.strip() else ""
        return _code_block(token.content, lang, formatter)

    def code_block(
        self: Any, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
    ) -> str:
        return _code_block(tokens[idx].content, "", formatter)

    md.add_render_rule("fence", fence)
    md.add_render_rule("code_block", code_block)
    md.add_render_rule("code_inline", _code_inline)
    md.add_render_rule("link_open", _link_open)
    md.add_render_rule("link_close", _link_close)
    md.add_render_rule("image", _image)
    md.add_render_rule("table_open", _table_open)
    md.add_render_rule("heading_open", _heading_open)
    return md


def _code_block(code: str, lang: str, formatter: HtmlFormatter) -> str:
    try:
        lexer = get_lexer_by_name(lang) if lang else TextLexer()
    except ClassNotFound:
        lexer = TextLexer()
    body = highlight(code, lexer, formatter).rstrip("\n")
    label = (
        f'<p style="margin:0; font-size:small; color:#808080">{escape(lang)}</p>' if lang else ""
    )
    # A one-cell table gives the code a padded box; <pre> keeps every space and blank line.
    return (
        f'<table width="100%" border="0" cellspacing="0" cellpadding="8" '
        f'bgcolor="{CODE_BACKGROUND}" style="margin-top:4px; margin-bottom:8px">'
        f'<tr><td>{label}<pre style="margin:0; font-family: monospace">{body}</pre>'
        "</td></tr></table>\n"
    )


def _code_inline(
    self: Any, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
) -> str:
    return f'<code style="{INLINE_CODE_STYLE}">{escape(tokens[idx].content)}</code>'


def _link_open(
    self: Any, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
) -> str:
    token = tokens[idx]
    href = str(token.attrGet("href") or "")
    # A stack pairs each link_close with its link_open, also for links inside links' text.
    stack: list[bool] = env.setdefault("hearth_links", [])
    allowed = is_allowed_link(href)
    stack.append(allowed)
    if not allowed:
        return ""
    return f'<a href="{escape(href, quote=True)}">'


def _link_close(
    self: Any, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
) -> str:
    stack: list[bool] = env.setdefault("hearth_links", [])
    allowed = stack.pop() if stack else False
    return "</a>" if allowed else ""


def _image(self: Any, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType) -> str:
    token = tokens[idx]
    alt = self.renderInlineAsText(token.children or [], options, env)
    return f"<i>{escape(alt)}</i>" if alt else ""


def _table_open(
    self: Any, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
) -> str:
    return (
        '<table border="1" cellspacing="0" cellpadding="4" '
        'style="border-color:#808080; border-style:solid; margin-top:4px; margin-bottom:8px">\n'
    )


def _heading_open(
    self: Any, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
) -> str:
    tag = tokens[idx].tag
    return f'<{tag} style="font-size:{_HEADING_SIZES.get(tag, "medium")}">'
