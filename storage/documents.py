"""Documents and their stored summaries. Each method runs one short session and returns
frozen records; the summary tables are keyed by (document hash, model, options key[, level,
index]) so a job can resume and a repeated one costs nothing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from storage.models import ChunkSummaryRow, DocumentRow, FinalSummaryRow, utc_now

if TYPE_CHECKING:
    from storage.database import Database


@dataclass(frozen=True)
class DocumentRecord:
    id: int
    content_hash: str
    path: str
    title: str
    type: str
    pages: int | None
    words: int
    tokens: int | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class SummaryKey:
    """What a summary depends on: the bytes of the file, the model, and the options."""

    doc_hash: str
    model: str
    options_key: str


@dataclass(frozen=True)
class ChunkSummaryRecord:
    key: SummaryKey
    level: int
    index: int
    text: str
    sources_json: str
    created_at: datetime


@dataclass(frozen=True)
class FinalSummaryRecord:
    key: SummaryKey
    text: str
    citations_json: str
    timing_json: str
    created_at: datetime


def _document_record(row: DocumentRow) -> DocumentRecord:
    return DocumentRecord(
        id=row.id,
        content_hash=row.content_hash,
        path=row.path,
        title=row.title,
        type=row.type,
        pages=row.pages,
        words=row.words,
        tokens=row.tokens,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _chunk_key_filter(key: SummaryKey) -> tuple[object, ...]:
    return (
        ChunkSummaryRow.doc_hash == key.doc_hash,
        ChunkSummaryRow.model == key.model,
        ChunkSummaryRow.options_key == key.options_key,
    )


class DocumentRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    # ---- documents ----------------------------------------------------------------------

    def upsert(
        self,
        *,
        content_hash: str,
        path: str,
        title: str,
        type: str,
        pages: int | None,
        words: int,
        tokens: int | None = None,
    ) -> DocumentRecord:
        """Add a document, or refresh the one with the same content (it may have moved)."""
        now = utc_now()
        with self._db.session() as session:
            row = session.scalar(
                select(DocumentRow).where(DocumentRow.content_hash == content_hash)
            )
            if row is None:
                row = DocumentRow(content_hash=content_hash, created_at=now)
                session.add(row)
            row.path, row.title, row.type = path, title, type
            row.pages, row.words, row.updated_at = pages, words, now
            if tokens is not None:
                row.tokens = tokens
            session.flush()
            return _document_record(row)

    def get_by_hash(self, content_hash: str) -> DocumentRecord | None:
        with self._db.session() as session:
            row = session.scalar(
                select(DocumentRow).where(DocumentRow.content_hash == content_hash)
            )
            return None if row is None else _document_record(row)

    def list_recent(self) -> list[DocumentRecord]:
        query = select(DocumentRow).order_by(DocumentRow.updated_at.desc(), DocumentRow.id.desc())
        with self._db.session() as session:
            return [_document_record(row) for row in session.scalars(query)]

    def delete(self, content_hash: str, *, summaries: bool = True) -> None:
        """Take a document out of the library, with every summary made of it unless
        `summaries` is False: kept summaries come back when the same file is opened again
        (they are keyed by its content, not by the library row)."""
        with self._db.session() as session:
            session.execute(delete(DocumentRow).where(DocumentRow.content_hash == content_hash))
            if summaries:
                session.execute(
                    delete(ChunkSummaryRow).where(ChunkSummaryRow.doc_hash == content_hash)
                )
                session.execute(
                    delete(FinalSummaryRow).where(FinalSummaryRow.doc_hash == content_hash)
                )

    # ---- partial summaries --------------------------------------------------------------

    def get_partial(self, key: SummaryKey, level: int, index: int) -> ChunkSummaryRecord | None:
        query = select(ChunkSummaryRow).where(
            *_chunk_key_filter(key), ChunkSummaryRow.level == level, ChunkSummaryRow.index == index
        )
        with self._db.session() as session:
            row = session.scalar(query)
            return None if row is None else _chunk_record(key, row)

    def list_partials(self, key: SummaryKey) -> list[ChunkSummaryRecord]:
        query = (
            select(ChunkSummaryRow)
            .where(*_chunk_key_filter(key))
            .order_by(ChunkSummaryRow.level, ChunkSummaryRow.index)
        )
        with self._db.session() as session:
            return [_chunk_record(key, row) for row in session.scalars(query)]

    def put_partial(
        self, key: SummaryKey, level: int, index: int, text: str, sources_json: str
    ) -> ChunkSummaryRecord:
        """Store (or replace) one partial summary; committed at once so a crash keeps it."""
        with self._db.session() as session:
            row = session.scalar(
                select(ChunkSummaryRow).where(
                    *_chunk_key_filter(key),
                    ChunkSummaryRow.level == level,
                    ChunkSummaryRow.index == index,
                )
            )
            if row is None:
                row = ChunkSummaryRow(
                    doc_hash=key.doc_hash,
                    model=key.model,
                    options_key=key.options_key,
                    level=level,
                    index=index,
                )
                session.add(row)
            row.text, row.sources_json, row.created_at = text, sources_json, utc_now()
            session.flush()
            return _chunk_record(key, row)

    # ---- final summaries ----------------------------------------------------------------

    def get_final(self, key: SummaryKey) -> FinalSummaryRecord | None:
        with self._db.session() as session:
            row = _final_row(session, key)
            return None if row is None else _final_record(key, row)

    def put_final(
        self, key: SummaryKey, text: str, citations_json: str, timing_json: str
    ) -> FinalSummaryRecord:
        with self._db.session() as session:
            row = _final_row(session, key)
            if row is None:
                row = FinalSummaryRow(
                    doc_hash=key.doc_hash, model=key.model, options_key=key.options_key
                )
                session.add(row)
            row.text, row.citations_json, row.timing_json = text, citations_json, timing_json
            row.created_at = utc_now()
            session.flush()
            return _final_record(key, row)

    def finals_for(self, doc_hash: str) -> list[FinalSummaryRecord]:
        """Every final summary of a document (other models or options), newest first."""
        query = (
            select(FinalSummaryRow)
            .where(FinalSummaryRow.doc_hash == doc_hash)
            .order_by(FinalSummaryRow.created_at.desc(), FinalSummaryRow.id.desc())
        )
        with self._db.session() as session:
            return [
                _final_record(SummaryKey(row.doc_hash, row.model, row.options_key), row)
                for row in session.scalars(query)
            ]


def _final_row(session: Session, key: SummaryKey) -> FinalSummaryRow | None:
    return session.scalar(
        select(FinalSummaryRow).where(
            FinalSummaryRow.doc_hash == key.doc_hash,
            FinalSummaryRow.model == key.model,
            FinalSummaryRow.options_key == key.options_key,
        )
    )


def _chunk_record(key: SummaryKey, row: ChunkSummaryRow) -> ChunkSummaryRecord:
    return ChunkSummaryRecord(key, row.level, row.index, row.text, row.sources_json, row.created_at)


def _final_record(key: SummaryKey, row: FinalSummaryRow) -> FinalSummaryRecord:
    return FinalSummaryRecord(key, row.text, row.citations_json, row.timing_json, row.created_at)
