"""Whether the Tesseract OCR program is installed, and what to tell the user either way.

Its own module so that the PDF reader (which offers OCR for a scanned file) and the OCR
reader (which renders PDF pages) both use it without importing each other.
"""

from __future__ import annotations

import shutil

INSTALL_HINT = (
    "Hearth can read it with OCR once Tesseract is installed "
    "(Debian/Ubuntu: sudo apt-get install tesseract-ocr; macOS: brew install tesseract); "
    "then open the file again."
)
OFFER = "Tesseract is installed: Run OCR reads the text from the page images (seconds a page)."


def tesseract() -> str | None:
    """The tesseract program, or None when it is not installed."""
    return shutil.which("tesseract")
