"""Full-text search over every message, with SQLite FTS5.

The index (`message_index`, revision 0004) is kept by triggers, so every write path (chat,
import, repair) is indexed. Its tokenizer folds case and diacritics ("resume" finds
"résumé"); CJK text is indexed character by character (storage.fts_text).

User queries are never passed to FTS5 as syntax: each term is quoted, so `"`, `*`, `NEAR`
and parentheses are just text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import text

from storage.database import Database
from storage.fts_text import ZWSP, index_text
from storage.models import UTCDateTime
from storage.records import Role

HIT_START, HIT_END = "\x02", "\x03"
MAX_QUERY_TERMS = 16
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def match_expression(query: str) -> str | None:
    """An FTS5 MATCH string for what the user typed, or None when nothing is searchable.

    Every term is a quoted phrase (quotes inside doubled); the last one also matches as a
    prefix, so results appear while a word is still being typed.
    """
    # Control characters (a NUL pasted from a binary file ends FTS5's string early: an
    # "unterminated string" error) separate words, as they do in the index.
    query = _CONTROL.sub(" ", query)
    terms = [t for t in re.split(r"\s+", query.strip()) if any(c.isalnum() for c in t)]
    if not terms:
        return None
    phrases = []
    for term in terms[:MAX_QUERY_TERMS]:
        tokens = index_text(term).replace(ZWSP, " ").split()
        phrases.append('"' + " ".join(tokens).replace('"', '""') + '"')
    phrases[-1] += "*"
    return " ".join(phrases)


@dataclass(frozen=True)
class SearchHit:
    message_id: int
    conversation_id: int
    conversation_title: str
    role: Role | None
    created_at: datetime
    # Text around the hits; HIT_START/HIT_END surround each matched term.
    snippet: str


_SEARCH_SQL = text(
    f"""
    SELECT m.id, m.conversation_id, c.title, m.role, m.created_at,
           snippet(message_index, 0, '{HIT_START}', '{HIT_END}', '…', 16)
    FROM message_index
    JOIN messages AS m ON m.id = message_index.rowid
    JOIN conversations AS c ON c.id = m.conversation_id
    WHERE message_index MATCH :match AND c.deleted_at IS NULL
    ORDER BY message_index.rowid DESC
    LIMIT :limit
    """
).columns(created_at=UTCDateTime)  # typed, so rows come back as aware datetimes


class SearchRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    def search(self, query: str, limit: int = 50) -> list[SearchHit]:
        """Newest matches first, across all conversations not in the trash. (Ranking by
        relevance would score every match: over 100 ms on 100,000 messages.)"""
        match = match_expression(query)
        if match is None:
            return []
        hits = []
        with self._db.session() as session:
            rows = session.execute(_SEARCH_SQL, {"match": match, "limit": limit}).all()
        for message_id, conversation_id, title, role, created_at, snippet in rows:
            try:
                role_value: Role | None = Role(role)
            except ValueError:
                role_value = None  # a role a newer Hearth wrote: still findable
            hits.append(
                SearchHit(
                    message_id,
                    conversation_id,
                    title,
                    role_value,
                    created_at,
                    (snippet or "").replace(ZWSP, ""),
                )
            )
        return hits
