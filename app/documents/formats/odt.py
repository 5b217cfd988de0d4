"""ODT (OpenDocument text) through odfpy: text:h elements carry their outline level."""

from __future__ import annotations

import zipfile
from pathlib import Path

from odf import teletype
from odf.opendocument import load

from app.documents.formats.damaged import refused_when_damaged
from app.documents.model import DocumentError, Section


def read_odt(path: Path) -> tuple[list[Section], str | None]:
    with refused_when_damaged(path, "OpenDocument text"):
        return _read_odt(path)


def _read_odt(path: Path) -> tuple[list[Section], str | None]:
    try:
        document = load(str(path))
    except (zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise DocumentError(f"{path.name} is not a readable OpenDocument text.") from exc
    sections: list[Section] = []
    stack: list[tuple[int, str]] = []
    current: list[str] = []
    current_path: tuple[str, ...] = ()
    title: str | None = None

    def flush() -> None:
        body = "\n\n".join(current).strip()
        if body:
            sections.append(Section(text=body, heading_path=current_path))

    for node in _blocks(document.text):
        value = teletype.extractText(node).strip()
        if not value:
            continue
        if node.qname[1] == "h":
            flush()
            level = int(node.getAttribute("outlinelevel") or 1)
            title = title or value
            stack = [(lvl, h) for lvl, h in stack if lvl < level] + [(level, value)]
            current_path = tuple(h for _lvl, h in stack)
            current = [value]
        else:
            current.append(value)
    flush()
    return sections, title


def _blocks(node: object) -> list[object]:
    """Paragraphs and headings in document order, descending into lists and sections."""
    found: list[object] = []
    for child in getattr(node, "childNodes", []):
        name = getattr(child, "qname", (None, None))[1]
        if name in ("p", "h"):
            found.append(child)
        else:
            found.extend(_blocks(child))
    return found
