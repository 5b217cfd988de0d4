"""Streaming into a ChatView that already holds ~200 KB of conversation.

Run: .venv/bin/python bench/stream_view.py [--seconds 5] [--rate 2000] [--interval-ms 33]
     [--speed-plot]

--speed-plot adds the status bar's live speed plot as the app drives it: every token's arrival
recorded (app/chat/live_speed.py) and the plot given the latest points every 250 ms (the
live-stats tick); run with and without it, alternately, to see what the plot costs.

Feeds synthetic markdown tokens at a fixed rate from a QTimer, coalesces them the way the app
does (DeltaCoalescer), and measures event-loop stalls with a 1 ms heartbeat timer. An idle
phase of the same run is the baseline the stall numbers are compared against. Prints a plain
table; never asserts (benchmarks are not tests).
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import sys
import time
from datetime import datetime
from pathlib import Path

if "DISPLAY" not in os.environ and "WAYLAND_DISPLAY" not in os.environ:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from PySide6.QtCore import QElapsedTimer, Qt, QTimer
from PySide6.QtGui import QTextDocument
from PySide6.QtWidgets import QApplication, QMainWindow

from app.chat.live_speed import LiveSpeed
from storage.records import MessageRecord, MessageStatus, Role
from ui.chat.message_html import header_html
from ui.chat.speed_plot import SpeedPlot
from ui.chat.view import ChatView
from ui.markdown.render import render_markdown
from ui.widgets.delta_coalescer import DeltaCoalescer

NOW = datetime(2025, 1, 1)
WORDS = [
    "model",
    "token",
    "cache",
    "prompt",
    "layer",
    "context",
    "quant",
    "memory",
    "thread",
    "window",
    "stream",
    "answer",
    "question",
    "kernel",
    "buffer",
    "vector",
    "matrix",
    "decode",
    "prefill",
    "latency",
    "speed",
    "local",
    "private",
]


def paragraph(seed: int, words: int) -> str:
    return " ".join(WORDS[(seed * 7 + i * 3) % len(WORDS)] for i in range(words)) + "."


def markdown_message(seed: int, target_chars: int) -> str:
    """A reply-like markdown text: headings, paragraphs, lists, code blocks, tables."""
    parts: list[str] = []
    i = seed
    while sum(len(p) for p in parts) < target_chars:
        kind = i % 5
        if kind == 0:
            parts.append(f"## Section {i}\n\n{paragraph(i, 40)}")
        elif kind == 1:
            parts.append("\n".join(f"- {paragraph(i + k, 6)} `code{k}`" for k in range(4)))
        elif kind == 2:
            parts.append(f"```python\ndef step_{i}(x):\n    y = x * {i}\n\n    return y + 1\n```")
        elif kind == 3:
            parts.append(f"| name | value |\n|---|---|\n| a{i} | {i} |\n| b{i} | {i * 2} |")
        else:
            parts.append(f"{paragraph(i, 30)} **{WORDS[i % len(WORDS)]}** _done_.")
        i += 1
    parts.append(f"Final words of reply {seed}.")  # ends in plain text, like most replies
    return "\n\n".join(parts)


def history(total_chars: int) -> list[MessageRecord]:
    messages: list[MessageRecord] = []
    size, i = 0, 0
    while size < total_chars:
        role = Role.USER if i % 2 == 0 else Role.ASSISTANT
        text = paragraph(i, 25) if role is Role.USER else markdown_message(i, 2500)
        messages.append(MessageRecord(i + 1, 1, None, role, text, MessageStatus.COMPLETE, NOW, NOW))
        size += len(text)
        i += 1
    return messages


def tokens_of(text: str) -> list[str]:
    # Word-sized pieces with their whitespace, like a tokenizer's detokenized deltas.
    return re.findall(r"\S{1,6}\s*|\s+", text)


def rendered_reply(markdown: str) -> str:
    """What a finished assistant message shows, rendered in one go in a fresh document."""
    doc = QTextDocument()
    doc.setHtml(header_html(Role.ASSISTANT) + render_markdown(markdown))
    return doc.toPlainText()


class Heartbeat:
    """Records the gaps between 1 ms timer ticks: a long gap is a stalled event loop."""

    def __init__(self) -> None:
        self.gaps_ms: list[float] = []
        self._last = time.perf_counter()
        self.timer = QTimer()
        self.timer.setTimerType(Qt.TimerType.PreciseTimer)
        self.timer.setInterval(1)
        self.timer.timeout.connect(self._tick)

    def start(self) -> None:
        self.gaps_ms.clear()
        self._last = time.perf_counter()
        self.timer.start()

    def stop(self) -> None:
        self.timer.stop()

    def _tick(self) -> None:
        now = time.perf_counter()
        self.gaps_ms.append((now - self._last) * 1000)
        self._last = now


def run_loop(app: QApplication, seconds: float) -> None:
    QTimer.singleShot(round(seconds * 1000), app.quit)
    app.exec()


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--rate", type=float, default=2000.0, help="tokens per second")
    parser.add_argument("--interval-ms", type=int, default=33, help="coalescer interval")
    parser.add_argument("--history-kb", type=int, default=200)
    parser.add_argument("--speed-plot", action="store_true", help="with the live speed plot")
    args = parser.parse_args()

    app = QApplication.instance() or QApplication(sys.argv)
    assert isinstance(app, QApplication)
    window = QMainWindow()
    view = ChatView()
    window.setCentralWidget(view)
    plot = SpeedPlot(window)
    window.statusBar().addPermanentWidget(plot)
    window.resize(900, 700)
    window.show()
    live = LiveSpeed()
    plot_timer = QTimer()
    plot_timer.setInterval(250)  # LIVE_STATS_MS
    plot_timer.timeout.connect(lambda: plot.show_points(live.sample(time.perf_counter())))

    earlier = history(args.history_kb * 1000)
    started = time.perf_counter()
    view.set_messages(earlier)
    app.processEvents()
    load_ms = (time.perf_counter() - started) * 1000

    reply_text = markdown_message(99, round(args.seconds * args.rate * 4.2))
    tokens = tokens_of(reply_text)
    heartbeat = Heartbeat()

    # Baseline: the same heartbeat with an idle (but visible) view.
    heartbeat.start()
    run_loop(app, 1.0)
    heartbeat.stop()
    idle = list(heartbeat.gaps_ms)

    coalescer = DeltaCoalescer(args.interval_ms)
    flushes: list[int] = []
    coalescer.flushed.connect(view.append_delta)
    coalescer.flushed.connect(lambda text: flushes.append(len(text)))
    view.begin_reply(10_000_000)
    delivered = 0
    clock = QElapsedTimer()

    def feed() -> None:
        nonlocal delivered
        due = min(len(tokens), int(clock.elapsed() / 1000 * args.rate) + 1)
        while delivered < due:
            if args.speed_plot:
                live.add(time.perf_counter(), 1)
            coalescer.push(tokens[delivered])
            delivered += 1
        if delivered == len(tokens):
            feeder.stop()
            plot_timer.stop()
            coalescer.flush()
            QTimer.singleShot(100, app.quit)  # let the last repaint happen

    feeder = QTimer()
    feeder.setTimerType(Qt.TimerType.PreciseTimer)
    feeder.setInterval(1)
    feeder.timeout.connect(feed)
    heartbeat.start()
    clock.start()
    stream_started = time.perf_counter()
    feeder.start()
    if args.speed_plot:
        plot_timer.start()
    app.exec()
    stream_s = time.perf_counter() - stream_started
    heartbeat.stop()
    busy = list(heartbeat.gaps_ms)

    expected = rendered_reply(reply_text)
    streamed_ok = view.reply_text() == reply_text and view.message_text(10_000_000) == expected
    final = MessageRecord(
        10_000_000, 1, None, Role.ASSISTANT, reply_text, MessageStatus.COMPLETE, NOW, NOW
    )
    started = time.perf_counter()
    view.finish_reply(final)
    app.processEvents()
    finish_ms = (time.perf_counter() - started) * 1000
    final_ok = view.message_text(10_000_000).startswith(expected)

    history_kb = sum(len(m.content) for m in earlier) / 1000
    rows = [
        ("history in view", f"{history_kb:.0f} KB in {len(earlier)} messages"),
        ("live speed plot", f"yes, {len(plot.points())} points shown" if args.speed_plot else "no"),
        ("set_messages (history)", f"{load_ms:.0f} ms"),
        ("reply", f"{len(reply_text) / 1000:.1f} KB, {len(tokens)} tokens"),
        ("target rate", f"{args.rate:.0f} tok/s, coalesced every {args.interval_ms} ms"),
        (
            "tokens delivered",
            f"{delivered} / {len(tokens)} in {stream_s:.2f} s ({delivered / stream_s:.0f} tok/s)",
        ),
        ("view updates", f"{len(flushes)} ({len(flushes) / stream_s:.0f} Hz)"),
        ("idle: longest gap", f"{max(idle):.1f} ms (baseline)"),
        (
            "idle: median / p99 gap",
            f"{statistics.median(idle):.2f} / {percentile(idle, 0.99):.2f} ms",
        ),
        (
            "streaming: longest stall",
            f"{max(busy):.1f} ms (goal <= 16; {max(busy) / max(idle):.1f}x idle)",
        ),
        (
            "streaming: median / p99 gap",
            f"{statistics.median(busy):.2f} / {percentile(busy, 0.99):.2f} ms",
        ),
        ("streaming: gaps > 16 ms", str(sum(g > 16 for g in busy))),
        ("finish_reply (final render)", f"{finish_ms:.0f} ms"),
        ("streamed text == expected", "yes" if streamed_ok else "NO"),
        ("final text == expected", "yes" if final_ok else "NO"),
    ]
    width = max(len(name) for name, _ in rows)
    print(f"{'measure':<{width}}  value")
    print(f"{'-' * width}  {'-' * 40}")
    for name, value in rows:
        print(f"{name:<{width}}  {value}")
    return 0 if streamed_ok and final_ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
