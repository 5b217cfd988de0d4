"""PDF through pypdfium2, one page at a time: each page is loaded, read and closed before the
next, so a 2,000-page file costs the memory of one page plus its text."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

from app.documents.formats.tesseract import INSTALL_HINT, OFFER, tesseract
from app.documents.model import DocumentError, Section

NO_TEXT_LAYER = "This PDF has no text layer (it is probably scanned), so there is no text to read."


class NoTextLayer(DocumentError):
    """A PDF with pages but no text on them: OCR could read it."""


def no_text_layer_message() -> str:
    # Offer OCR only where a local engine could actually run it; else say how to get one.
    return f"{NO_TEXT_LAYER} {OFFER if tesseract() else INSTALL_HINT}"


def open_pdf(path: Path) -> pdfium.PdfDocument:
    try:
        return pdfium.PdfDocument(str(path))
    except pdfium.PdfiumError as exc:
        if getattr(exc, "err_code", None) == pdfium_c.FPDF_ERR_PASSWORD:
            raise DocumentError(
                f"{path.name} is encrypted with a password; open it in a PDF reader, "
                "save an unprotected copy and summarize that."
            ) from exc
        raise DocumentError(f"{path.name} is not a readable PDF (damaged or not a PDF).") from exc


def pdf_title(pdf: pdfium.PdfDocument) -> str | None:
    try:
        return (pdf.get_metadata_dict().get("Title") or "").strip() or None
    except pdfium.PdfiumError:
        return None


def iter_pdf_pages(
    pdf: pdfium.PdfDocument,
    should_stop: Callable[[], bool] | None = None,
    damaged: list[int] | None = None,
) -> Iterator[Section]:
    """Sections for pages that have text, numbered from 1; stops early when asked to.
    A page pdfium cannot load is skipped (the rest of a long file is still worth reading)
    and its number added to `damaged`."""
    for index in range(len(pdf)):
        if should_stop is not None and should_stop():
            return
        try:
            page = pdf[index]
        except pdfium.PdfiumError:  # a damaged page object (found by fuzzing, issue 15)
            if damaged is not None:
                damaged.append(index + 1)
            continue
        try:
            textpage = page.get_textpage()
            try:
                text = textpage.get_text_range()
            finally:
                textpage.close()
        finally:
            page.close()
        # pdfium ends lines with \r\n and marks soft hyphens with \x02/\ufffe; tidy both.
        text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\x02", "")
        text = text.replace("\ufffe", "").strip()
        if text:
            yield Section(text=text, page=index + 1)


def read_pdf(
    path: Path, should_stop: Callable[[], bool] | None = None
) -> tuple[list[Section], str | None, int]:
    pdf = open_pdf(path)
    damaged: list[int] = []
    try:
        pages = len(pdf)
        sections = list(iter_pdf_pages(pdf, should_stop, damaged))
        title = pdf_title(pdf)
    finally:
        pdf.close()
    if should_stop is not None and should_stop():
        # Stopped between pages: the sections are a part of the text, not the document.
        raise DocumentError(f"Reading {path.name} was stopped.")
    if not sections and damaged:
        raise DocumentError(f"{path.name} is not a readable PDF (its pages are damaged).")
    if not sections:
        raise NoTextLayer(f"{path.name}: {no_text_layer_message()}")
    return sections, title, pages
