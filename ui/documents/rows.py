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
# The output-language choice that means "write in the document's own language".
SAME_AS_DOCUMENT = "auto"
CITE_SCHEME = "hearth-cite"


class DocumentStatus:
    """What the status column says (plain words, not codes)."""

    READING = "Reading…"
    READY = "Ready"
    QUEUED = "Queued"
    WAITING = "Waiting for the model"
    SUMMARIZING = "Summarizing"
    DONE = "Done"
    CANCELLED = "Cancelled"
    FAILED = "Failed"
    MISSING = "File missing"
    OCR = "OCR…"
    SCANNED = "Scanned, no text: Run OCR above"

    @staticmethod
    def summarizing(percent: int) -> str:
        return f"Summarizing {percent}%"

    @staticmethod
    def ocr(done: int, total: int) -> str:
        return f"OCR page {done} of {total}"

    @staticmethod
    def failed(reason: str) -> str:
        return f"Failed: {reason}"


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
    status: str = DocumentStatus.READY
    detail: str = ""  # tooltip of the status cell (an error in plain words, for example)
    language: str = ""  # detected language, for the type cell's tooltip


def cite_link(label: str, index: int) -> str:
    """A citation as the page's Markdown carries it: ``[p. 3](hearth-cite:0)``."""
    clean = label.replace("[", "(").replace("]", ")")
    return f"[{clean}]({CITE_SCHEME}:{index})"
