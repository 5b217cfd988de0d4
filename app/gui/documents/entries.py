"""What the Documents controller knows of each listed document, and of the summary shown.
GUI thread only."""

from __future__ import annotations

from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path

from app.documents.citations import Citation
from app.documents.model import Document, SourceRef
from app.documents.state import SUMMARY_BUSY, DocumentState, DocumentStatus
from app.languages.codes import LANGUAGES
from storage.documents import DocumentRecord
from ui.documents.rows import DocumentRow

_LANGUAGE_NAMES = {language.code: language.name for language in LANGUAGES}


@dataclass
class Entry:
    """One row of the page."""

    path: str
    title: str
    type: str
    content_hash: str | None = None
    pages: int | None = None
    words: int | None = None
    tokens: int | None = None
    tokens_model: str | None = None
    tokens_estimated: bool = False
    counting: bool = False
    document: Document | None = None
    language: str | None = None
    reading: Future[tuple[Document, str | None]] | None = None
    status: DocumentStatus = field(default_factory=DocumentStatus)
    detail: str = ""

    @classmethod
    def new(cls, path: str) -> Entry:
        """A file just opened, before it is read."""
        suffix = Path(path).suffix.lower().lstrip(".")
        return cls(path=path, title=Path(path).name, type=suffix or "?")

    @classmethod
    def from_record(cls, record: DocumentRecord, summarized: bool) -> Entry:
        """A document of the library; `summarized` if it has a stored final summary."""
        entry = cls(
            path=record.path,
            title=record.title,
            type=record.type,
            content_hash=record.content_hash,
            pages=record.pages,
            words=record.words,
            tokens=record.tokens,
        )
        if not Path(record.path).is_file():
            entry.status = DocumentStatus(DocumentState.MISSING)
            entry.detail = f"The file is no longer at {record.path}; its summaries are kept."
        elif summarized:
            entry.status = DocumentStatus(DocumentState.DONE)
            entry.detail = "Summarized before: select it to see the summary."
        return entry

    def take_document(self, document: Document, language: str | None) -> None:
        """What reading the file found."""
        self.document, self.language = document, language
        self.content_hash = document.content_hash
        self.title, self.type = document.title, document.type
        self.pages, self.words = document.pages, document.words

    def row(self) -> DocumentRow:
        language = _LANGUAGE_NAMES.get(self.language or "", self.language or "")
        return DocumentRow(
            path=self.path,
            title=self.title,
            type=self.type,
            pages=self.pages,
            words=self.words,
            tokens=self.tokens,
            tokens_estimated=self.tokens_estimated,
            counting=self.counting,
            state=self.status.state,
            percent=self.status.percent,
            ocr_page=self.status.ocr_page,
            ocr_pages=self.status.ocr_pages,
            reason=self.status.reason,
            summary_busy=self.status.state in SUMMARY_BUSY,
            detail=self.detail,
            language=language,
        )


@dataclass
class Shown:
    """The summary in the view, for citations, export and chat."""

    path: str
    title: str
    text: str
    citations: list[Citation]
    spans: tuple[tuple[int, int], ...]
    links: list[tuple[Citation, SourceRef]]
