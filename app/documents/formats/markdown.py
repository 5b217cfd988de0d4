"""Markdown (and the Markdown trafilatura produces from HTML): sections at headings.

Headings are what CommonMark reads as headings (app/util/markdown_blocks.py), at the top level
of the text: `#` lines, with up to three spaces before them, and setext headings (a paragraph
underlined with `===` or `---`), which Markdown viewers show as headings too. A heading inside
a block quote or a list item is quoted or listed material, not a section of the document; a
`#` line inside a code block (``` or ~~~, of any length, or indented) is code. A heading
without text starts no section.
"""

from __future__ import annotations

from app.documents.model import Section
from app.util.markdown_blocks import read_lines


def markdown_sections(text: str) -> tuple[list[Section], str | None]:
    """Split at headings (outside code); returns sections and the first heading."""
    lines = text.splitlines()
    # Parsed as the lines are cut here, so that the parser's line numbers are these lines.
    headings = {
        heading.start: heading
        for heading in read_lines(line + "\n" for line in lines).headings
        if not heading.nested and heading.text
    }
    sections: list[Section] = []
    path: list[tuple[int, str]] = []
    current: list[str] = []
    current_path: tuple[str, ...] = ()
    title: str | None = None

    def flush() -> None:
        body = "\n".join(current).strip()
        if body:
            sections.append(Section(text=body, heading_path=current_path))

    for number, line in enumerate(lines):
        heading = headings.get(number)
        if heading is None:
            current.append(line)
            continue
        flush()
        level = heading.level
        title = title or heading.text
        # A heading closes every open heading of the same or a deeper level.
        path = [(lvl, h) for lvl, h in path if lvl < level] + [(level, heading.text)]
        current_path = tuple(h for _lvl, h in path)
        current = [line]
    flush()
    return sections, title
