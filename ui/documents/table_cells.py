"""What the Documents page's table shows of a document: its cells and their tooltips."""

from __future__ import annotations

from ui.documents.rows import DocumentRow, status_text

_TYPE_LABELS = {"markdown": "Markdown", "text": "Text"}
COLUMNS = ("Title", "Type", "Pages", "Words", "Tokens", "Status")
NUMERIC_COLUMNS = (2, 3, 4)


def cells(document: DocumentRow) -> tuple[str, ...]:
    if document.tokens is not None:
        tokens = f"{'≈' if document.tokens_estimated else ''}{document.tokens:,}"
    else:
        tokens = "…" if document.counting else ""
    return (
        document.title,
        _TYPE_LABELS.get(document.type, document.type.upper()),
        "" if document.pages is None else f"{document.pages:,}",
        "" if document.words is None else f"{document.words:,}",
        tokens,
        status_text(document),
    )


def tooltip(document: DocumentRow, column: int, text: str) -> str:
    if column == 0:
        return document.path
    if column == 1 and document.language:
        return f"{text} · {document.language}"
    if column == 4 and document.counting and document.tokens is None:
        return "Counting with the model's tokenizer…"
    if column == 4 and document.tokens_estimated:
        return "Estimated from samples of the text: counting all of it would take minutes"
    if column == len(COLUMNS) - 1 and document.detail:
        return document.detail
    return text
