"""Text the Documents page shows about a summary: its progress line and its HTML with
citation links. No widgets."""

from __future__ import annotations

import html
import re

from ui.documents.rows import CITE_SCHEME
from ui.markdown.render import render_markdown

_CITE_LINK = re.compile(r"\[([^\[\]\n]+)\]\(" + CITE_SCHEME + r":(\d+)\)")


def format_seconds_left(seconds: float | None) -> str:
    if seconds is None or seconds < 0.5:
        return ""
    if seconds < 90:
        return f"about {max(1, round(seconds))} s left"
    if seconds < 90 * 60:
        return f"about {round(seconds / 60)} min left"
    return f"about {seconds / 3600:.1f} h left"


def progress_text(
    chunks_done: int,
    chunks_total: int,
    tokens_in: int,
    tokens_out: int,
    seconds_left: float | None,
    prefix: str = "",
) -> str:
    """E.g. "Report (1 of 2) · 3 of 12 chunks done · 4,210 tokens in, 380 out · about 40 s
    left"; until the speed is measured (`seconds_left` None) "measuring the speed…"."""
    parts = [prefix] if prefix else []
    if chunks_total > 1:
        parts.append(f"{chunks_done} of {chunks_total} chunks done")
    if tokens_in or tokens_out:
        parts.append(f"{tokens_in:,} tokens in, {tokens_out:,} out")
    left = format_seconds_left(seconds_left)
    if left:
        parts.append(left)
    elif seconds_left is None:
        parts.append("measuring the speed…")
    return " · ".join(parts)


def summary_html(markdown: str, *, dark: bool = False) -> str:
    """Markdown (untrusted model output) → safe HTML, with ``[label](hearth-cite:N)`` turned
    into citation anchors. The renderer drops non-http links, so citations go through it
    as placeholders and come back as anchors afterwards."""
    links: list[tuple[str, int]] = []

    def park(match: re.Match[str]) -> str:
        links.append((match.group(1), int(match.group(2))))
        return f"HEARTHCITE{len(links) - 1}X"

    rendered = render_markdown(_CITE_LINK.sub(park, markdown), dark=dark)

    def anchor(match: re.Match[str]) -> str:
        label, index = links[int(match.group(1))]
        return (
            f'<a href="{CITE_SCHEME}:{index}" style="text-decoration: none;">'
            f"<small>[{html.escape(label)}]</small></a>"
        )

    return re.sub(r"HEARTHCITE(\d+)X", anchor, rendered)
