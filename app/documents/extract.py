"""Turn a file into a Document: pick the reader by extension, hash the bytes, check the result.

Every failure a user can cause (empty file, wrong format, encrypted or scanned PDF) becomes a
DocumentError with a plain message; anything else is a bug and propagates.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

from app.documents.formats.markdown import markdown_sections
from app.documents.formats.text import read_text_file
from app.documents.model import Document, DocumentError, Section

__all__ = ["SUPPORTED_EXTENSIONS", "Document", "DocumentError", "Section", "extract_document"]

_TYPES: dict[str, str] = {
    ".pdf": "pdf",
    ".docx": "docx",
    ".odt": "odt",
    ".epub": "epub",
    ".html": "html",
    ".htm": "html",
    ".xhtml": "html",
    ".md": "markdown",
    ".markdown": "markdown",
    ".txt": "text",
    ".text": "text",
    ".rst": "text",
    ".log": "text",
    ".csv": "text",
}
SUPPORTED_EXTENSIONS = tuple(sorted(_TYPES))

# Zip-based formats start with "PK\x03\x04"; PDFs with "%PDF" somewhere in the first KiB.
_ZIP_MAGIC = b"PK\x03\x04"


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def extract_document(path: Path, should_stop: Callable[[], bool] | None = None) -> Document:
    """Read `path`. `should_stop` lets a caller abandon a long PDF between pages, or a
    huge text file between blocks (DocumentError)."""
    path = Path(path)
    kind = _TYPES.get(path.suffix.lower())
    if kind is None:
        known = ", ".join(SUPPORTED_EXTENSIONS)
        raise DocumentError(f"{path.name}: unknown document type (Hearth reads {known}).")
    try:
        size = path.stat().st_size
        with path.open("rb") as handle:
            head = handle.read(1024)
    except OSError as exc:
        raise DocumentError(f"{path.name} cannot be read: {exc.strerror or exc}.") from exc
    if size == 0:
        raise DocumentError(f"{path.name} is empty.")
    _check_magic(path, kind, head)

    pages: int | None = None
    title: str | None
    sections: list[Section]
    if kind == "pdf":
        from app.documents.formats.pdf import read_pdf

        sections, title, pages = read_pdf(path, should_stop)
    elif kind == "docx":
        from app.documents.formats.docx import read_docx

        sections, title = read_docx(path)
    elif kind == "odt":
        from app.documents.formats.odt import read_odt

        sections, title = read_odt(path)
    elif kind == "epub":
        from app.documents.formats.epub import read_epub

        sections, title = read_epub(path)
    else:
        text = read_text_file(path, should_stop)
        if kind == "html":
            from app.documents.formats.html import read_html

            sections, title = read_html(text)
        elif kind == "markdown":
            sections, title = markdown_sections(text)
        else:
            body = text.strip()
            del text  # a stripped copy of a 200 MB file: keep one of the two
            sections, title = ([Section(text=body)] if body else []), None

    sections = [s for s in sections if s.text.strip()]
    if not sections:
        raise DocumentError(f"{path.name} contains no text.")
    return Document(
        title=title or path.stem,
        type=kind,
        source_path=str(path.resolve()),
        content_hash=file_sha256(path),
        sections=tuple(sections),
        pages=pages,
    )


def ocr_document(
    path: Path,
    should_stop: Callable[[], bool] | None = None,
    on_page: Callable[[int, int], None] | None = None,
) -> Document:
    """A scanned PDF read by OCR (Tesseract), page by page; `on_page(done, total)` after each
    page. Pages keep their numbers, so citations point to them as in any PDF."""
    from app.documents.formats.ocr import ocr_pdf

    path = Path(path)
    sections, title, pages = ocr_pdf(path, should_stop, on_page)
    return Document(
        title=title or path.stem,
        type="pdf",
        source_path=str(path.resolve()),
        content_hash=file_sha256(path),
        sections=tuple(sections),
        pages=pages,
        notes=("Text from OCR",),
    )


def _check_magic(path: Path, kind: str, head: bytes) -> None:
    # A cheap early check gives "not a PDF" instead of a parser's internal complaint.
    if kind == "pdf" and b"%PDF" not in head:
        raise DocumentError(f"{path.name} is not a PDF file (its contents are something else).")
    if kind in ("docx", "odt", "epub") and not head.startswith(_ZIP_MAGIC):
        raise DocumentError(
            f"{path.name} is not a valid {kind.upper()} file (its contents are something else)."
        )
