"""A document's state is the domain's enum (app/documents/state.py); the page words it
(ui/documents/rows.py), and nothing decides by testing the words."""

from __future__ import annotations

from app.documents.state import DocumentState, DocumentStatus
from ui.documents.rows import DocumentRow, status_text


def _row(status: DocumentStatus) -> DocumentRow:
    return DocumentRow(
        "/docs/a.pdf",
        "a.pdf",
        "pdf",
        state=status.state,
        percent=status.percent,
        ocr_page=status.ocr_page,
        ocr_pages=status.ocr_pages,
        reason=status.reason,
    )


def test_the_page_words_every_state_and_each_differently() -> None:
    words = [status_text(_row(DocumentStatus(state))) for state in DocumentState]
    assert all(words) and len(set(words)) == len(words)


def test_progress_and_reasons_are_worded_from_the_numbers_and_the_message() -> None:
    summarizing = DocumentStatus(DocumentState.SUMMARIZING, percent=40)
    assert status_text(_row(summarizing)) == "Summarizing 40%"
    assert status_text(_row(DocumentStatus(DocumentState.OCR))) == "OCR…"
    reading = DocumentStatus(DocumentState.OCR, ocr_page=1, ocr_pages=2)
    assert status_text(_row(reading)) == "OCR page 1 of 2"
    failed = DocumentStatus(DocumentState.FAILED, reason="empty.txt is empty.")
    assert status_text(_row(failed)) == "Failed: empty.txt is empty."


def test_a_state_is_a_plain_string_the_ui_can_take() -> None:
    """ui/ imports no app code: the row carries the enum's value."""
    assert DocumentState.SUMMARIZING == "summarizing" and isinstance(DocumentState.DONE, str)
