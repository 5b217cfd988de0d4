"""A real chat history written through the app's repositories, and the ways a file gets
damaged on disk: cut short (a copy that stopped half-way), its first bytes overwritten, a run
of pages zeroed (a bad sector, a sync tool writing holes)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from storage.chats import ConversationRepository, MessageRepository
from storage.database import Database
from storage.records import MessageStatus, Role, StatsRecord, TraceRecord

CHATS = 12
MESSAGES = 400

STATS = StatsRecord(
    model="tiny",
    chat_format="chatml",
    n_ctx=1024,
    n_gpu_layers=0,
    prompt_tokens=20,
    prompt_tokens_evaluated=20,
    completion_tokens=10,
    ttft_ms=5.0,
    prefill_tps=400.0,
    decode_tps=100.0,
    total_ms=105.0,
    stop_reason="eos",
)

TRACE = TraceRecord({"prefill_ms": 12.5, "cache_miss": "first turn"}, (5.0, 1.5, 1.25, 1.0))


@dataclass(frozen=True)
class History:
    """What was written: message id -> (chat title, text)."""

    messages: dict[int, tuple[str, str]]
    titles: dict[int, str]  # conversation id -> title


def message_text(n: int) -> str:
    # Different lengths, so rows spread over many pages as a real history's do.
    return f"message {n}: " + " ".join(f"word{n}-{k}" for k in range(5 + (n * 7) % 60))


def write_history(path: Path, chats: int = CHATS, total: int = MESSAGES) -> History:
    """`total` messages over `chats` chats, written turn by turn in round-robin order (as
    a person switching between chats would), replies with stats and traces; then the file is closed
    (its WAL checkpointed into it)."""
    db, _note = Database.open(path)
    conversations, messages = ConversationRepository(db), MessageRepository(db)
    titles: dict[int, str] = {}
    last: dict[int, int | None] = {}
    for c in range(chats):
        record = conversations.create(f"Chat {c}")
        titles[record.id] = record.title
        last[record.id] = None
    written: dict[int, tuple[str, str]] = {}
    ids = list(titles)
    for n in range(total):
        chat = ids[(n // 2) % chats]
        text = message_text(n)
        if n % 2 == 0:
            record = messages.add(chat, Role.USER, text, parent_id=last[chat])
        else:
            record = messages.start_reply(chat, last[chat])  # type: ignore[arg-type]
            messages.finish_reply(record.id, text, MessageStatus.COMPLETE, stats=STATS, trace=TRACE)
        last[chat] = record.id
        written[record.id] = (titles[chat], text)
    db.close()
    assert not path.with_name(path.name + "-wal").exists(), "closing checkpoints the WAL"
    return History(written, titles)


def page_size(path: Path) -> int:
    size = int.from_bytes(path.read_bytes()[16:18], "big")
    return 65536 if size == 1 else size


def cut_in_half(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def overwrite_header(path: Path) -> None:
    """The first 100 bytes (SQLite's file header) replaced by other bytes."""
    data = bytearray(path.read_bytes())
    data[:100] = b"\xa5" * 100
    path.write_bytes(bytes(data))


def zero_pages(path: Path, first: int, count: int) -> None:
    """Zero `count` pages from page number `first` (1-based, as SQLite counts)."""
    size = page_size(path)
    data = bytearray(path.read_bytes())
    start = (first - 1) * size
    data[start : start + count * size] = bytes(count * size)
    path.write_bytes(bytes(data))


def page_count(path: Path) -> int:
    return path.stat().st_size // page_size(path)


def copy_file(source: Path, target: Path) -> None:
    """A copy of a written history at `target` (its folder created), to damage."""
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(source.read_bytes())
