"""The Performance page's query (issue 12): every finished reply's figures, filtered, sorted
and paged; damaged stats or traces never make it fail."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from storage.chats import ConversationRepository, MessageRepository
from storage.database import Database
from storage.performance import PerformanceFilter, PerformanceRepository
from storage.records import MessageStatus, Role, SpeedPoints, StatsRecord, TraceRecord
from tests.support.factories import make_stats

BASE = make_stats()


def _reply(
    conversations: ConversationRepository,
    messages: MessageRepository,
    chat_title: str,
    stats: StatsRecord | None,
    phases: dict[str, object] | None = None,
) -> int:
    chat = conversations.create(chat_title)
    question = messages.add(chat.id, Role.USER, "q")
    reply = messages.start_reply(chat.id, question.id)
    trace = TraceRecord(phases, (1.0,)) if phases is not None else None  # type: ignore[arg-type]
    messages.finish_reply(reply.id, "a", MessageStatus.COMPLETE, stats=stats, trace=trace)
    return reply.id


@pytest.fixture
def performance(db: Database) -> PerformanceRepository:
    return PerformanceRepository(db)


@pytest.fixture
def three(
    conversations: ConversationRepository, messages: MessageRepository
) -> tuple[int, int, int]:
    """Three replies, oldest first: two models, different speeds and depths."""
    return (
        _reply(
            conversations,
            messages,
            "Été à Paris",
            replace(
                BASE, model="gemma", decode_tps=30.0, prompt_tokens=200, prompt_tokens_evaluated=120
            ),
            {"quantization": "Q4_K_M", "n_gpu_layers_actual": 0},
        ),
        _reply(
            conversations,
            messages,
            "Дом и сад",
            replace(
                BASE, model="qwen", decode_tps=50.0, prompt_tokens=300, prompt_tokens_evaluated=20
            ),
            {"quantization": "Q8_0", "n_gpu_layers_actual": 12},
        ),
        _reply(
            conversations,
            messages,
            "plain",
            replace(
                BASE, model="gemma", decode_tps=40.0, prompt_tokens=250, prompt_tokens_evaluated=60
            ),
        ),
    )


def test_every_finished_reply_with_its_figures_newest_first(
    conversations: ConversationRepository,
    messages: MessageRepository,
    performance: PerformanceRepository,
    three: tuple[int, int, int],
) -> None:
    # Not listed: a reply without stats (an error, or from an import without them), and a
    # reply in a chat in the trash.
    _reply(conversations, messages, "no stats", None)
    trashed = _reply(conversations, messages, "trashed", BASE)
    conversations.delete(messages.get(trashed).conversation_id)  # type: ignore[union-attr]

    rows = performance.replies()
    assert [r.message_id for r in rows] == list(reversed(three))
    newest = rows[0]
    stored = messages.get(three[2])
    assert stored is not None
    assert newest.stats == stored.stats
    assert (newest.conversation_id, newest.title) == (stored.conversation_id, "plain")
    assert newest.created_at == stored.created_at and newest.created_at.tzinfo == UTC
    assert newest.depth_at_start == 250  # the context when decoding began
    assert newest.tokens_reused == 250 - 60
    assert newest.phases == {}  # none asked for
    assert performance.count() == 3
    assert performance.models() == ["gemma", "qwen"]


def test_filters_by_model_date_and_title_in_any_script(
    messages: MessageRepository, performance: PerformanceRepository, three: tuple[int, int, int]
) -> None:
    def listed(which: PerformanceFilter) -> list[int]:
        ids = [r.message_id for r in performance.replies(which, descending=False)]
        assert performance.count(which) == len(ids)
        return ids

    assert listed(PerformanceFilter(model="gemma")) == [three[0], three[2]]
    assert listed(PerformanceFilter(model="nothing")) == []
    second = messages.get(three[1]).created_at  # type: ignore[union-attr]
    assert listed(PerformanceFilter(since=second)) == [three[1], three[2]]
    assert listed(PerformanceFilter(until=second)) == [three[0]]
    assert listed(PerformanceFilter(since=second, until=second + timedelta(days=1))) == [
        three[1],
        three[2],
    ]
    # Case folded beyond ASCII: SQLite's LIKE would miss both.
    assert listed(PerformanceFilter(title_contains="ÉTÉ")) == [three[0]]
    assert listed(PerformanceFilter(title_contains=" дом ")) == [three[1]]
    assert listed(PerformanceFilter(model="gemma", title_contains="a")) == [three[0], three[2]]


def test_sorts_by_figures_and_phases_missing_values_last(
    performance: PerformanceRepository, three: tuple[int, int, int]
) -> None:
    def order(sort: str, descending: bool) -> list[int]:
        rows = performance.replies(
            phase_keys=("quantization", "n_gpu_layers_actual"), sort=sort, descending=descending
        )
        return [r.message_id for r in rows]

    first, second, third = three
    assert order("decode_tps", True) == [second, third, first]
    assert order("decode_tps", False) == [first, third, second]
    assert order("depth_at_start", True) == [second, third, first]
    # Case folded, then by code point: "plain", "été", "дом".
    assert order("title", False) == [third, first, second]
    assert order("n_gpu_layers_actual", True) == [second, first, third]
    assert order("n_gpu_layers_actual", False) == [first, second, third]  # none: last
    assert order("date", False) == [first, second, third]
    with pytest.raises(ValueError):
        performance.replies(sort="quantization")  # a phase not asked for
    with pytest.raises(ValueError):
        performance.replies(phase_keys=["bad key'"])


def test_pages_follow_one_another(
    conversations: ConversationRepository,
    messages: MessageRepository,
    performance: PerformanceRepository,
) -> None:
    for n in range(7):
        _reply(conversations, messages, f"chat {n}", replace(BASE, decode_tps=float(n % 3)))
    whole = [r.message_id for r in performance.replies(sort="decode_tps")]
    pages = [
        r.message_id
        for start in range(0, 7, 3)
        for r in performance.replies(sort="decode_tps", limit=3, offset=start)
    ]
    assert pages == whole and len(whole) == 7


def test_phases_come_from_readable_traces_only(
    db: Database,
    conversations: ConversationRepository,
    messages: MessageRepository,
    performance: PerformanceRepository,
) -> None:
    phases = {
        "quantization": "Q4_K_M",
        "n_gpu_layers_actual": 7,
        "prefill_ms": 12.5,
        "cache_reused": True,
        "load_ms": None,
    }
    good = _reply(conversations, messages, "good", BASE, phases)
    damaged = {
        "garbage": _reply(conversations, messages, "garbage", BASE, phases),
        "format": _reply(conversations, messages, "format", BASE, phases),
        "blob": _reply(conversations, messages, "blob", BASE, phases),
    }
    nested = _reply(conversations, messages, "nested", BASE, phases)
    huge = _reply(conversations, messages, "huge", BASE, phases)
    with db.session() as session:
        for change, name in (
            ("phases_json = '{not json'", "garbage"),
            ("format = 99", "format"),
            ("phases_json = x'7b7d'", "blob"),
        ):
            session.execute(
                text(f"UPDATE message_traces SET {change} WHERE message_id = :i"),
                {"i": damaged[name]},
            )
        session.execute(
            text(
                "UPDATE message_traces SET phases_json = "
                """'{"quantization": {"type": 2}, "n_gpu_layers_actual": [1]}' """
                "WHERE message_id = :i"
            ),
            {"i": nested},
        )
        session.execute(
            text(
                """UPDATE message_traces SET phases_json = '{"prefill_ms": 1e999}' """
                "WHERE message_id = :i"
            ),
            {"i": huge},
        )

    keys = ("quantization", "n_gpu_layers_actual", "prefill_ms", "cache_reused", "load_ms")
    rows = {r.message_id: r.phases for r in performance.replies(phase_keys=keys)}
    assert len(rows) == 6  # every reply still listed
    # JSON true reads as 1 (SQLite has no booleans); a null phase is absent.
    assert rows[good] == {
        "quantization": "Q4_K_M",
        "n_gpu_layers_actual": 7,
        "prefill_ms": 12.5,
        "cache_reused": 1,
    }
    assert all(rows[i] == {} for i in damaged.values())
    assert rows[nested] == {}
    assert rows[huge] == {}
    # A page reads its rows' phases after the sort: the same phases, whatever the sort.
    for sort in ("date", "n_gpu_layers_actual"):
        whole = performance.replies(phase_keys=keys, sort=sort)
        paged = [
            row
            for start in range(0, 6, 4)
            for row in performance.replies(phase_keys=keys, sort=sort, limit=4, offset=start)
        ]
        assert paged == whole


def test_a_reply_with_damaged_stats_is_left_out_not_fatal(
    db: Database,
    conversations: ConversationRepository,
    messages: MessageRepository,
    performance: PerformanceRepository,
) -> None:
    kept = _reply(conversations, messages, "kept", BASE)
    broken = _reply(conversations, messages, "broken", BASE)
    with db.session() as session:
        session.execute(
            text("UPDATE generation_stats SET ttft_ms = 'fast' WHERE message_id = :i"),
            {"i": broken},
        )
        session.execute(
            text("UPDATE messages SET created_at = 'yesterday' WHERE id = :i"), {"i": kept}
        )
    rows = performance.replies()
    assert [r.message_id for r in rows] == [kept]
    assert rows[0].created_at == datetime(1970, 1, 1, tzinfo=UTC)  # an unreadable date
    assert performance.count() == 1


def test_speed_points_are_the_listed_replies_figures_by_column(
    performance: PerformanceRepository, three: tuple[int, int, int]
) -> None:
    points = performance.speed_points()
    assert points.message_id == three
    assert points.model == ("gemma", "qwen", "gemma")
    assert points.decode_tps == (30.0, 50.0, 40.0)
    assert points.prompt_tokens_evaluated == (120, 20, 60)
    assert points.prompt_tokens == (200, 300, 250)
    assert points.prefill_tps == (BASE.prefill_tps,) * 3
    qwen = performance.speed_points(PerformanceFilter(model="qwen"))
    assert qwen.message_id == (three[1],)
    assert performance.speed_points(PerformanceFilter(model="none")) == SpeedPoints()
