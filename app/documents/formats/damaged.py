"""One rule for the zip-based formats (DOCX, EPUB, ODT): a damaged package is refused with
DocumentError, whatever the library reading it trips on.

python-docx, ebooklib and odfpy trust the XML inside the zip and parse parts lazily, so a
damaged member surfaces late and as anything: AttributeError ('OpenDocument' has no
attribute 'text' after odfpy's SAX parse fails and carries on), IndexError, lxml's
XMLSyntaxError, NoneType errors in ebooklib's nav parsing... (found by fuzzing, issue 15:
tests/fuzz/test_document_readers.py). A file that is not what its name says is the user's to
fix, not a bug in Hearth, so the whole read, opening and walking, is covered.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from app.documents.model import DocumentError


@contextmanager
def refused_when_damaged(path: Path, what: str) -> Iterator[None]:
    """Raise DocumentError "`path` is not a readable `what`." for any error inside."""
    try:
        yield
    except DocumentError:
        raise
    except Exception as exc:  # the libraries raise assorted errors for broken packages
        raise DocumentError(f"{path.name} is not a readable {what}.") from exc
