"""Markdown (and the Markdown trafilatura produces from HTML): sections at ATX headings."""

from __future__ import annotations

import re

from app.documents.model import Section

_HEADING = re.compile(r"^(#{1,6})[ \t]+(.+?)[ \t#]*$")
_FENCE = re.compile(r"^(```|~~~)")


def markdown_sections(text: str) -> tuple[list[Section], str | None]:
    """Split at headings (outside fenced code); returns sections and the first heading."""
    sections: list[Section] = []
    path: list[tuple[int, str]] = []
    current: list[str] = []
    current_path: tuple[str, ...] = ()
    title: str | None = None
    in_fence = False

    def flush() -> None:
        body = "\n".join(current).strip()
        if body:
            sections.append(Section(text=body, heading_path=current_path))

    for line in text.splitlines():
        if _FENCE.match(line.lstrip()):
            in_fence = not in_fence
        match = None if in_fence else _HEADING.match(line)
        if match is None:
            current.append(line)
            continue
        flush()
        level, heading = len(match.group(1)), match.group(2).strip()
        title = title or heading
        # A heading closes every open heading of the same or a deeper level.
        path = [(lvl, h) for lvl, h in path if lvl < level] + [(level, heading)]
        current_path = tuple(h for _lvl, h in path)
        current = [line]
    flush()
    return sections, title
