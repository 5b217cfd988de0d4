"""Where a listed document stands: read, queued, being summarized, done, failed…

The Documents presenter decides with these values; the page words them
(ui/documents/rows.py `status_text`), so no decision ever tests the words shown."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class DocumentState(StrEnum):
    """A string enum: ui/ imports no app code, so the page's row carries the plain value."""

    READING = "reading"  # the file is being read
    READY = "ready"
    QUEUED = "queued"  # a summary waits its turn
    WAITING = "waiting"  # a summary waits for a model to be loaded
    SUMMARIZING = "summarizing"
    DONE = "done"
    CANCELLED = "cancelled"
    FAILED = "failed"
    MISSING = "missing"  # a library document whose file is gone
    OCR = "ocr"  # a scanned PDF being read with OCR
    SCANNED = "scanned"  # a scanned PDF without text, waiting for the user's Run OCR


# A summary is queued or running.
SUMMARY_BUSY = frozenset({DocumentState.QUEUED, DocumentState.WAITING, DocumentState.SUMMARIZING})


@dataclass(frozen=True)
class DocumentStatus:
    """A state with what its wording needs."""

    state: DocumentState = DocumentState.READY
    percent: int = 0  # SUMMARIZING: how far the summary is
    ocr_page: int = 0  # OCR: pages read so far ...
    ocr_pages: int = 0  # ... of how many; 0 until the first page is counted
    reason: str = ""  # FAILED: what went wrong, in plain words
