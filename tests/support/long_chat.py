"""A long conversation written straight into a real SQLite database (thousands of rows in
one statement; the repositories would take minutes). Each message reads "message number N"
followed by a varying number of words, so rows differ in height like a real chat."""

from __future__ import annotations

from sqlalchemy import text

from storage.database import Database
from storage.models import utc_now

_WORDS = [
    "the",
    "model",
    "reads",
    "the",
    "context",
    "window",
    "and",
    "answers",
    "in",
    "short",
    "clear",
    "sentences",
]


def message_text(number: int) -> str:
    return f"message number {number} " + " ".join(_WORDS[: 3 + number % len(_WORDS)])


def insert_long_conversation(db: Database, count: int, *, title: str = "Long chat") -> int:
    """Create a conversation of `count` alternating user/assistant messages; its id."""
    now = utc_now().replace(tzinfo=None).isoformat(sep=" ")
    with db.session() as session:
        conversation_id = session.execute(
            text(
                "INSERT INTO conversations (title, created_at, updated_at) "
                "VALUES (:title, :now, :now) RETURNING id"
            ),
            {"title": title, "now": now},
        ).scalar_one()
        first = (session.execute(text("SELECT max(id) FROM messages")).scalar() or 0) + 1
        session.execute(
            text(
                "INSERT INTO messages (id, conversation_id, parent_id, role, content, status, "
                "created_at, updated_at) VALUES (:id, :c, :p, :role, :content, 'complete', "
                ":now, :now)"
            ),
            [
                {
                    "id": first + n,
                    "c": conversation_id,
                    "p": first + n - 1 if n else None,
                    "role": "user" if n % 2 == 0 else "assistant",
                    "content": message_text(n + 1),
                    "now": now,
                }
                for n in range(count)
            ],
        )
    return int(conversation_id)
