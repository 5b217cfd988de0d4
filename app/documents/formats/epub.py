"""EPUB through ebooklib: chapters in spine (reading) order, each through the HTML extractor,
with the chapter's first heading as the top of its heading path."""

from __future__ import annotations

import zipfile
from pathlib import Path

import ebooklib
from ebooklib import epub

from app.documents.formats.damaged import refused_when_damaged
from app.documents.formats.html import html_to_markdown
from app.documents.formats.markdown import markdown_sections
from app.documents.model import DocumentError, Section


def read_epub(path: Path) -> tuple[list[Section], str | None]:
    with refused_when_damaged(path, "EPUB book"):
        return _read_epub(path)


def _read_epub(path: Path) -> tuple[list[Section], str | None]:
    try:
        book = epub.read_epub(str(path), options={"ignore_ncx": True})
    except (zipfile.BadZipFile, KeyError, epub.EpubException, ValueError) as exc:
        raise DocumentError(f"{path.name} is not a readable EPUB book.") from exc
    titles = book.get_metadata("DC", "title")
    title = titles[0][0] if titles else None
    sections: list[Section] = []
    for item_id, _linear in book.spine:
        item = book.get_item_with_id(item_id)
        if item is None or item.get_type() != ebooklib.ITEM_DOCUMENT:
            continue
        html = item.get_content().decode("utf-8", errors="replace")
        chapter, _ = markdown_sections(html_to_markdown(html))
        sections.extend(chapter)
    return sections, title
