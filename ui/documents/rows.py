"""Plain data the Documents page shows; the app controller builds these, the page draws them.

No app imports: the page may only see stdlib, PySide6 and these dataclasses.
"""

from __future__ import annotations

from dataclasses import dataclass

# Summary lengths and styles the page offers: (value sent to the app, label shown).
LENGTHS: tuple[tuple[str, str], ...] = (
    ("short", "Short"),
    ("medium", "Medium"),
    ("long", "Long"),
    ("words", "Word target"),
)
STYLES: tuple[tuple[str, str], ...] = (
    ("bullets", "Bullet points"),
    ("paragraph", "Paragraph"),
    ("executive", "Executive summary"),
    ("key_points", "Key points and action items"),
)
CITE_SCHEME = "hearth-cite"

# What the status column says for each state of app/documents/state.py's DocumentState,
# by its value (plain words, not codes); the states with figures are worded in status_text.
_STATUS_WORDS = {
    "reading": "Reading…",
    "ready": "Ready",
    "queued": "Queued",
    "waiting": "Waiting for the model",
    "done": "Done",
    "cancelled": "Cancelled",
    "missing": "File missing",
    "scanned": "Scanned, no text: Run OCR above",
}


@dataclass(frozen=True)
class DocumentRow:
    """One document in the page's table (opened now, or from the library)."""

    path: str
    title: str
    type: str  # "pdf", "docx", …
    pages: int | None = None
    words: int | None = None  # None while the file is being read, or when it cannot be
    tokens: int | None = None  # with the loaded model's tokenizer
    tokens_estimated: bool = False  # from samples of a huge document: shown as "≈"
    counting: bool = False  # tokens are being counted: the cell shows "…"
    state: str = "ready"  # a DocumentState value: see status_text
    percent: int = 0  # summarizing
    ocr_page: int = 0  # OCR: pages read so far ...
    ocr_pages: int = 0  # ... of how many; 0 until the first page is counted
    reason: str = ""  # failed: what went wrong
    summary_busy: bool = False  # a summary of it is queued or running
    detail: str = ""  # tooltip of the status cell (an error in plain words, for example)
    language: str = ""  # detected language, for the type cell's tooltip


def cite_link(label: str, index: int) -> str:
    """A citation as the page's Markdown carries it: ``[p. 3](hearth-cite:0)``."""
    clean = label.replace("[", "(").replace("]", ")")
    return f"[{clean}]({CITE_SCHEME}:{index})"


def status_text(row: DocumentRow) -> str:
    """The status column: "Summarizing 40%", "OCR page 2 of 9", "Failed: <reason>"…"""
    if row.state == "summarizing":
        return f"Summarizing {row.percent}%"
    if row.state == "ocr":
        return f"OCR page {row.ocr_page} of {row.ocr_pages}" if row.ocr_pages else "OCR…"
    if row.state == "failed":
        return f"Failed: {row.reason}" if row.reason else "Failed"
    return _STATUS_WORDS.get(row.state, row.state)
