"""The Performance page's query on 10,000 stored replies (issue 12: the page opens in
<= 200 ms to first paint; this is the storage part of that time).

Run: PYTHONPATH=. .venv/bin/python bench/performance_query.py [--replies 10000] [--repeat 15]

Builds a temporary database through the real schema (migrations, FTS triggers): --replies
finished replies in chats of 20, each with its stats and a trace of 200 tokens. Then, in
turns (interleaved, so drift on a shared machine hits every variant alike), times:

- baseline: `SELECT count(*) FROM generation_stats` through a Database session;
- each PerformanceRepository variant below: the first page of 100 rows (what the page needs
  for its first paint), count(), models() and speed_points() (the rest of the first paint:
  the row count, the model filter, the plots), and all rows as records.

One figure, per variant: from calling it to its result returned (session opened, SQL run,
rows turned into records, session closed), time.perf_counter. Prints median, min and max in
ms and the median's ratio to the baseline's. Prints figures; never asserts.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import text

from storage.database import Database
from storage.performance import PerformanceFilter, PerformanceRepository
from storage.traces import TRACE_FORMAT, pack_token_ms

MODELS = ("gemma-3-270m-Q4_K_M", "qwen2.5-0.5b-Q8_0", "llama-3.2-1b-Q4_K_M")
PHASES = ("quantization", "n_gpu_layers_actual")
PER_CHAT = 20
PAGE = 100
TOKENS = 200


def build(db: Database, replies: int, models: tuple[str, ...] = MODELS) -> None:
    """--replies replies by `models` in turn (see the module's docstring)."""
    start = datetime(2026, 1, 1, tzinfo=UTC)
    chats, messages, stats, traces = [], [], [], []
    token_ms = pack_token_ms([20.0 + (i % 7) for i in range(TOKENS)])
    for n in range(replies):
        chat = n // PER_CHAT + 1
        if n % PER_CHAT == 0:
            chats.append((chat, f"Chat number {chat} about ünïcode", str(start), str(start)))
        when = str((start + timedelta(minutes=n)).replace(tzinfo=None))
        question, reply = 2 * n + 1, 2 * n + 2
        messages.append((question, chat, None, "user", f"question {n}", when))
        messages.append((reply, chat, question, "assistant", f"answer {n}", when))
        model = models[n % len(models)]
        prompt = 50 + n % 4000
        stats.append(
            (reply, model, "chatml", 8192, -1, prompt, prompt // 3, TOKENS, 100.0 + n % 97,
             500.0 + n % 311, 30.0 + n % 13, 5000.0, "eos")
        )  # fmt: skip
        phases = {
            "queue_ms": 0.5,
            "prefill_ms": 80.0,
            "quantization": model.rsplit("-")[-1],
            "n_gpu_layers_actual": n % 29,
            "cache_miss": "",
            "first_paint_ms": 3.0,
        }
        traces.append((reply, TRACE_FORMAT, json.dumps(phases), token_ms))
    with db.session() as session:
        connection = session.connection()
        connection.exec_driver_sql(
            "INSERT INTO conversations (id, title, created_at, updated_at, pinned, title_source)"
            " VALUES (?, ?, ?, ?, 0, 'auto')",
            chats,
        )
        connection.exec_driver_sql(
            "INSERT INTO messages (id, conversation_id, parent_id, role, content, status,"
            " created_at, updated_at) VALUES (?, ?, ?, ?, ?, 'complete', ?, ?)",
            [(*m, m[-1]) for m in messages],
        )
        connection.exec_driver_sql(
            "INSERT INTO generation_stats VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", stats
        )
        connection.exec_driver_sql("INSERT INTO message_traces VALUES (?, ?, ?, ?)", traces)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--replies", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        db, _ = Database.open(Path(folder) / "hearth.db")
        try:
            build(db, args.replies)
            run(db, args.replies, args.repeat)
        finally:
            db.close()


def run(db: Database, replies: int, repeat: int) -> None:
    repository = PerformanceRepository(db)

    def count() -> object:
        with db.session() as session:
            return session.execute(text("SELECT count(*) FROM generation_stats")).scalar_one()

    month = PerformanceFilter(
        since=datetime(2026, 1, 2, tzinfo=UTC), until=datetime(2026, 2, 1, tzinfo=UTC)
    )
    variants: dict[str, Callable[[], object]] = {
        "baseline: SELECT count(*)": count,
        "first page (100), newest first": lambda: repository.replies(limit=PAGE),
        "first page, + 2 phases, by decode_tps": lambda: repository.replies(
            phase_keys=PHASES, sort="decode_tps", limit=PAGE
        ),
        "first page, + 2 phases, by a phase": lambda: repository.replies(
            phase_keys=PHASES, sort="n_gpu_layers_actual", limit=PAGE
        ),
        "first page, one model": lambda: repository.replies(
            PerformanceFilter(model=MODELS[0]), limit=PAGE
        ),
        "first page, title contains": lambda: repository.replies(
            PerformanceFilter(title_contains="NUMBER 1"), limit=PAGE
        ),
        "first page, one month": lambda: repository.replies(month, limit=PAGE),
        "count()": repository.count,
        "models()": repository.models,
        "speed_points(): all, for the plots": repository.speed_points,
        "all rows, newest first": repository.replies,
        "all rows, + 2 phases": lambda: repository.replies(phase_keys=PHASES),
    }
    assert len(repository.replies()) == replies
    for variant in variants.values():
        variant()  # warm: statement caches, page cache
    times: dict[str, list[float]] = {name: [] for name in variants}
    for _ in range(repeat):
        for name, variant in variants.items():
            began = time.perf_counter()
            variant()
            times[name].append((time.perf_counter() - began) * 1000)
    base = statistics.median(times["baseline: SELECT count(*)"])
    print(f"{replies} replies, {repeat} interleaved runs each (ms: median [min-max], ratio)")
    for name, values in times.items():
        median = statistics.median(values)
        print(
            f"  {name:40s} {median:8.2f} [{min(values):.2f}-{max(values):.2f}]"
            f"  x{median / base:.0f}"
        )
    with db.session() as session:
        plan = (
            session.connection()
            .exec_driver_sql(
                "EXPLAIN QUERY PLAN SELECT m.id FROM generation_stats AS s "
                "JOIN messages AS m ON m.id = s.message_id "
                "JOIN conversations AS c ON c.id = m.conversation_id "
                "LEFT JOIN message_traces AS t ON t.message_id = s.message_id "
                "WHERE c.deleted_at IS NULL ORDER BY m.created_at DESC"
            )
            .all()
        )
    print("plan:", "; ".join(str(row[-1]) for row in plan))


if __name__ == "__main__":
    main()
