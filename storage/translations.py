"""History of translations: what was translated, into what, by which model and when.
Each method runs one short session and returns frozen records."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import delete, func, or_, select

from storage.models import TranslationRow, utc_now

if TYPE_CHECKING:
    from storage.database import Database

_LIKE_ESCAPE = "\\"


@dataclass(frozen=True)
class TranslationRecord:
    id: int
    source_text: str
    translation: str
    source_lang: str | None  # None: the source language was not decided
    target_lang: str
    model: str
    created_at: datetime


def _record(row: TranslationRow) -> TranslationRecord:
    return TranslationRecord(
        id=row.id,
        source_text=row.source_text,
        translation=row.translation,
        source_lang=row.source_lang,
        target_lang=row.target_lang,
        model=row.model,
        created_at=row.created_at,
    )


def _like_pattern(text: str) -> str:
    # The user's % and _ are literal characters, not wildcards.
    escaped = (
        text.replace(_LIKE_ESCAPE, _LIKE_ESCAPE * 2)
        .replace("%", _LIKE_ESCAPE + "%")
        .replace("_", _LIKE_ESCAPE + "_")
    )
    return f"%{escaped}%"


class TranslationRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    def add(
        self,
        *,
        source_text: str,
        translation: str,
        source_lang: str | None,
        target_lang: str,
        model: str,
    ) -> TranslationRecord:
        with self._db.session() as session:
            row = TranslationRow(
                source_text=source_text,
                translation=translation,
                source_lang=source_lang,
                target_lang=target_lang,
                model=model,
                created_at=utc_now(),
            )
            session.add(row)
            session.flush()
            return _record(row)

    def get(self, translation_id: int) -> TranslationRecord | None:
        with self._db.session() as session:
            row = session.get(TranslationRow, translation_id)
            return None if row is None else _record(row)

    def search(self, text: str = "", *, limit: int = 200) -> list[TranslationRecord]:
        """Newest first; with `text`, only those whose source or translation contains it
        (case-insensitive for ASCII letters, as SQLite's LIKE is)."""
        query = select(TranslationRow)
        if text.strip():
            pattern = _like_pattern(text.strip())
            query = query.where(
                or_(
                    TranslationRow.source_text.like(pattern, escape=_LIKE_ESCAPE),
                    TranslationRow.translation.like(pattern, escape=_LIKE_ESCAPE),
                )
            )
        query = query.order_by(TranslationRow.created_at.desc(), TranslationRow.id.desc())
        with self._db.session() as session:
            return [_record(row) for row in session.scalars(query.limit(limit))]

    def delete(self, translation_id: int) -> None:
        self.delete_many([translation_id])

    def delete_many(self, ids: Iterable[int]) -> list[TranslationRecord]:
        """Delete these entries (unknown ids are skipped); returns what was deleted, for
        `restore`."""
        wanted = list(ids)
        with self._db.session() as session:
            rows = session.scalars(select(TranslationRow).where(TranslationRow.id.in_(wanted)))
            records = [_record(row) for row in rows]
            session.execute(delete(TranslationRow).where(TranslationRow.id.in_(wanted)))
            return records

    def restore(self, records: Iterable[TranslationRecord]) -> None:
        """Put deleted entries back as they were. SQLite may have given a deleted id to a
        newer entry meanwhile; such a record comes back under a new id."""
        with self._db.session() as session:
            for record in records:
                taken = session.get(TranslationRow, record.id) is not None
                session.add(
                    TranslationRow(
                        id=None if taken else record.id,
                        source_text=record.source_text,
                        translation=record.translation,
                        source_lang=record.source_lang,
                        target_lang=record.target_lang,
                        model=record.model,
                        created_at=record.created_at,
                    )
                )

    def count(self) -> int:
        with self._db.session() as session:
            return int(session.scalar(select(func.count()).select_from(TranslationRow)) or 0)

    def clear(self) -> int:
        """Delete the whole history; returns how many entries there were."""
        with self._db.session() as session:
            return int(session.execute(delete(TranslationRow)).rowcount or 0)
