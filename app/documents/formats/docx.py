"""DOCX through python-docx. Headings come from paragraph styles ("Heading 1".."Heading 9",
"Title"), which is how Word itself builds its navigation pane."""

from __future__ import annotations

import zipfile
from pathlib import Path

import docx
from docx.opc.exceptions import PackageNotFoundError

from app.documents.formats.damaged import refused_when_damaged
from app.documents.model import DocumentError, Section


def _heading_level(style_name: str) -> int | None:
    if style_name == "Title":
        return 0
    if style_name.startswith("Heading "):
        tail = style_name.removeprefix("Heading ").strip()
        if tail.isdigit():
            return int(tail)
    return None


def read_docx(path: Path) -> tuple[list[Section], str | None]:
    with refused_when_damaged(path, "Word document"):
        return _read_docx(path)


def _read_docx(path: Path) -> tuple[list[Section], str | None]:
    try:
        document = docx.Document(str(path))
    except (PackageNotFoundError, zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise DocumentError(f"{path.name} is not a readable Word document.") from exc
    sections: list[Section] = []
    path_stack: list[tuple[int, str]] = []
    current: list[str] = []
    current_path: tuple[str, ...] = ()
    title = (document.core_properties.title or "").strip() or None

    def flush() -> None:
        body = "\n\n".join(current).strip()
        if body:
            sections.append(Section(text=body, heading_path=current_path))

    for paragraph in document.paragraphs:
        text = paragraph.text.strip()
        if not text:
            continue
        level = _heading_level(paragraph.style.name if paragraph.style is not None else "")
        if level is None:
            current.append(text)
            continue
        flush()
        title = title or text
        path_stack = [(lvl, h) for lvl, h in path_stack if lvl < level] + [(level, text)]
        current_path = tuple(h for _lvl, h in path_stack)
        current = [text]
    flush()
    # Tables hold real content in many reports; keep their text after the body.
    for table in document.tables:
        rows = [" | ".join(cell.text.strip() for cell in row.cells) for row in table.rows]
        body = "\n".join(r for r in rows if r.strip(" |"))
        if body:
            sections.append(Section(text=body, heading_path=("Table",)))
    return sections, title
