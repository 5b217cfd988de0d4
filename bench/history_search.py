"""Search and open speed on a big history: 100,000 messages across 1,000 conversations.

Run: .venv/bin/python bench/history_search.py [--messages 100000] [--conversations 1000]

Builds the database through the real schema (migrations, FTS5 triggers), then reports:
search latency over 100 queries (median, worst; goal median <= 30 ms), with a baseline of
the same number of plain `LIKE '%word%'` scans measured in the same run; the time from
opening a 10,000-message conversation to its first paint in the real ChatView (goal
<= 150 ms); and the process RSS after scrolling the whole conversation up and back down
(goal: < +40 MiB), once with the view's rendering cap and once without it (the baseline, in
the same run; --no-baseline skips it). Prints figures; never asserts.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

if "DISPLAY" not in os.environ and "WAYLAND_DISPLAY" not in os.environ:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import psutil
from sqlalchemy import text

from app.chat.lazy_path import LazyPath
from app.gui.main import freeze_startup_objects
from storage.chats import MessageRepository
from storage.database import Database
from storage.models import utc_now
from storage.search import SearchRepository

VOCABULARY = [
    "model",
    "token",
    "cache",
    "context",
    "window",
    "prompt",
    "reply",
    "engine",
    "thread",
    "memory",
    "speed",
    "layer",
    "offload",
    "quantization",
    "summary",
    "document",
    "translation",
    "glossary",
    "language",
    "paragraph",
    "sentence",
    "chapter",
    "résumé",
    "café",
    "naïve",
    "Zürich",
    "Müller",
    "東京",
    "天気",
    "서울",
    "kitchen",
    "garden",
    "river",
    "mountain",
    "castle",
    "python",
    "rust",
    "query",
    "index",
    "search",
    "branch",
    "version",
    "export",
    "import",
    "settings",
    "theme",
    "keyboard",
]


def build(db: Database, messages: int, conversations: int, big: int) -> int:
    """Returns the id of the conversation holding `big` messages."""
    rng = random.Random(7)
    now = utc_now().replace(tzinfo=None).isoformat(sep=" ")
    with db.session() as session:
        session.execute(
            text(
                "INSERT INTO conversations (id, title, created_at, updated_at) "
                "VALUES (:id, :title, :now, :now)"
            ),
            [{"id": c + 1, "title": f"Chat {c + 1}", "now": now} for c in range(conversations)],
        )
        rows = []
        per_chat = max(1, (messages - big) // max(1, conversations - 1))
        plan = [(1, big)] + [(c + 2, per_chat) for c in range(conversations - 1)]
        next_id = 1
        for conversation_id, count in plan:
            parent = None
            for n in range(count):
                body = " ".join(rng.choices(VOCABULARY, k=rng.randint(8, 60)))
                rows.append(
                    {
                        "id": next_id,
                        "c": conversation_id,
                        "p": parent,
                        "role": "user" if n % 2 == 0 else "assistant",
                        "content": body,
                        "now": now,
                    }
                )
                parent = next_id
                next_id += 1
        session.execute(
            text(
                "INSERT INTO messages (id, conversation_id, parent_id, role, content, status, "
                "created_at, updated_at) VALUES (:id, :c, :p, :role, :content, 'complete', "
                ":now, :now)"
            ),
            rows,
        )
    return 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--conversations", type=int, default=1_000)
    parser.add_argument("--big", type=int, default=10_000)
    parser.add_argument("--queries", type=int, default=100)
    parser.add_argument(
        "--no-baseline", action="store_true", help="skip the run without a rendering cap"
    )
    args = parser.parse_args()
    process = psutil.Process()
    with tempfile.TemporaryDirectory() as folder:
        db, _ = Database.open(Path(folder) / "bench.db")
        started = time.perf_counter()
        big_id = build(db, args.messages, args.conversations, args.big)
        print(
            f"built {args.messages:,} messages in {args.conversations:,} conversations "
            f"in {time.perf_counter() - started:.1f} s (FTS triggers included)"
        )
        rng = random.Random(11)
        queries = [
            " ".join(rng.sample(VOCABULARY, k=rng.choice((1, 1, 2, 3))))
            for _ in range(args.queries)
        ]
        search = SearchRepository(db)
        fts_ms, like_ms, counts = [], [], []
        for query in queries:
            t0 = time.perf_counter()
            counts.append(len(search.search(query)))
            fts_ms.append((time.perf_counter() - t0) * 1000)
            word = query.split()[0]
            t0 = time.perf_counter()
            with db.session() as session:
                session.execute(
                    text(
                        "SELECT m.id FROM messages m JOIN conversations c "
                        "ON c.id = m.conversation_id WHERE c.deleted_at IS NULL "
                        "AND m.content LIKE :w LIMIT 50"
                    ),
                    {"w": f"%{word}%"},
                ).all()
            like_ms.append((time.perf_counter() - t0) * 1000)
        print(
            f"search, {len(queries)} queries (≤50 hits each, mean {statistics.mean(counts):.0f}):"
            f" median {statistics.median(fts_ms):.2f} ms, worst {max(fts_ms):.2f} ms "
            f"(goal median ≤ 30 ms)"
        )
        print(
            f"baseline LIKE scan of one word, same queries: median "
            f"{statistics.median(like_ms):.2f} ms, worst {max(like_ms):.2f} ms; "
            f"FTS/LIKE median ratio {statistics.median(fts_ms) / statistics.median(like_ms):.3f}"
        )
        rss_before = process.memory_info().rss

        from PySide6.QtWidgets import QApplication

        import ui.chat.view
        import ui.chat.view_paging
        from ui.chat.view import ChatView

        app = QApplication.instance() or QApplication([])
        freeze_startup_objects()  # as the app does once its window is up
        mib = 2**20
        growth: list[float] = []  # MiB gained by scrolling, per run
        runs = [("windowed", ui.chat.view_paging.MAX_RENDERED)]
        if not args.no_baseline:
            runs.append(("unbounded (baseline: no cap)", 10**9))
        for label, cap in runs:
            # Both modules read the cap (the paging mixin and append_message).
            ui.chat.view.MAX_RENDERED = cap
            ui.chat.view_paging.MAX_RENDERED = cap
            view = ChatView()
            view.resize(840, 700)
            view.show()
            app.processEvents()
            rss_window = process.memory_info().rss
            t0 = time.perf_counter()
            path = LazyPath(MessageRepository(db), big_id)  # what the app's open does
            t_loaded = time.perf_counter()
            view.set_messages(path)
            view.viewport().repaint()
            t_painted = time.perf_counter()
            paint_ms = 1000 * (t_painted - t0)
            print(f"\n[{label}, at most {min(cap, len(path)):,} messages rendered]")
            print(
                f"open a {len(path):,}-message conversation: read {1000 * (t_loaded - t0):.0f} ms,"
                f" first paint {paint_ms:.0f} ms after the click (goal ≤ 150 ms, "
                f"ratio to goal {paint_ms / 150:.2f})"
            )
            bar = view.verticalScrollBar()
            t0 = time.perf_counter()
            pages = most = 0
            while view.earlier_count():  # the user keeps scrolling to the top
                bar.setValue(0)
                app.processEvents()
                pages += 1
                most = max(most, view.rendered_count())
            rss_top = process.memory_info().rss
            down = 0
            while view.later_count():  # and all the way back down
                bar.setValue(bar.maximum())
                app.processEvents()
                down += 1
                most = max(most, view.rendered_count())
            bar.setValue(bar.maximum())
            app.processEvents()
            rss_after = process.memory_info().rss
            print(
                f"scrolled up through {pages} older pages and down through {down} in "
                f"{time.perf_counter() - t0:.1f} s; at most {most:,} messages "
                f"({view.document().blockCount():,} blocks at the end) in the document"
            )
            grown = (rss_after - rss_window) / mib
            print(
                f"RSS: {rss_window / mib:.0f} MiB with the window open, "
                f"{rss_top / mib:.0f} MiB at the top, {rss_after / mib:.0f} MiB back at the "
                f"bottom: +{grown:.0f} MiB (goal < +40 MiB)"
            )
            growth.append(grown)
            view.close()
            view.deleteLater()
            app.processEvents()
        print(f"\nRSS before the first window: {rss_before / mib:.0f} MiB")
        if len(growth) == 2 and growth[1] > 0:
            print(
                f"memory growth from scrolling, windowed / unbounded: "
                f"{growth[0]:.0f} / {growth[1]:.0f} MiB = {growth[0] / growth[1]:.2f}"
            )
        db.close()


if __name__ == "__main__":
    main()
