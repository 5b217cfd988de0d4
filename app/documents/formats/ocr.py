"""Text for a scanned PDF (no text layer) by OCR: each page is rendered with pdfium to a
grayscale image and read by the `tesseract` command-line program, one page at a time, so
memory is one page's image and a cancel ends the running page's process at once.

No Python OCR package: Tesseract is a system program the user installs (or not); Hearth only
offers OCR where `shutil.which("tesseract")` finds it (formats/tesseract.py).
"""

from __future__ import annotations

import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path

import pypdfium2.raw as pdfium_c

from app.documents.formats.pdf import open_pdf, pdf_title
from app.documents.formats.tesseract import INSTALL_HINT, tesseract
from app.documents.model import DocumentError, Section

OCR_DPI = 300  # what Tesseract is tuned for; lower loses small print
POLL_S = 0.2  # how often a running page looks at its stop flag
PAGE_TIMEOUT_S = 300.0

OnPage = Callable[[int, int], None]  # pages done, pages in all


def ocr_pdf(
    path: Path,
    should_stop: Callable[[], bool] | None = None,
    on_page: OnPage | None = None,
) -> tuple[list[Section], str | None, int]:
    """(sections by page number, title, page count) like read_pdf, from OCR."""
    program = tesseract()
    if program is None:
        raise DocumentError(f"{path.name}: OCR needs Tesseract. {INSTALL_HINT}")
    stop = should_stop or (lambda: False)
    pdf = open_pdf(path)
    try:
        pages = len(pdf)
        title = pdf_title(pdf)
        sections: list[Section] = []
        for index in range(pages):
            if stop():
                raise DocumentError(f"OCR of {path.name} was cancelled.")
            text = _read_image(program, _page_image(pdf, index), stop, path.name)
            if text:
                sections.append(Section(text=text, page=index + 1))
            if on_page is not None:
                on_page(index + 1, pages)
    finally:
        pdf.close()
    if not sections:
        raise DocumentError(f"{path.name}: OCR found no text on its pages.")
    return sections, title, pages


def _page_image(pdf: object, index: int) -> bytes:
    """The page as a binary PGM (8-bit gray): Tesseract reads it, and no imaging library is
    needed to write it."""
    page = pdf[index]  # type: ignore[index]
    try:
        bitmap = page.render(
            scale=OCR_DPI / 72, grayscale=True, force_bitmap_format=pdfium_c.FPDFBitmap_Gray
        )
        try:
            width, height, stride = bitmap.width, bitmap.height, bitmap.stride
            pixels = bytes(bitmap.buffer)
        finally:
            bitmap.close()
    finally:
        page.close()
    if stride != width:  # rows padded to a multiple of 4 bytes: drop the padding
        pixels = b"".join(pixels[row * stride : row * stride + width] for row in range(height))
    return b"P5\n%d %d\n255\n" % (width, height) + pixels


def _read_image(program: str, image: bytes, stop: Callable[[], bool], name: str) -> str:
    # The image goes through a file: a pipe would need a writer thread next to the reader
    # (communicate() cannot be retried while it is still writing the input).
    with tempfile.TemporaryDirectory(prefix="hearth-ocr-") as folder:
        page_file = Path(folder) / "page.pgm"
        page_file.write_bytes(image)
        process = subprocess.Popen(
            [program, str(page_file), "stdout"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        waited = 0.0
        try:
            while True:
                try:
                    out, err = process.communicate(timeout=POLL_S)
                    break
                except subprocess.TimeoutExpired:
                    waited += POLL_S
                    if stop():
                        raise DocumentError(f"OCR of {name} was cancelled.") from None
                    if waited > PAGE_TIMEOUT_S:
                        raise DocumentError(f"OCR of {name} took too long on one page.") from None
        finally:
            if process.poll() is None:
                process.kill()
                process.communicate()
    if process.returncode != 0:
        reason = err.decode("utf-8", "replace").strip().splitlines()[-1:] or ["no reason given"]
        raise DocumentError(f"OCR of {name} failed: {reason[0]}")
    text = out.decode("utf-8", "replace").replace("\f", "\n")
    return "\n".join(line.rstrip() for line in text.splitlines()).strip()
