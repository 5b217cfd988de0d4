from __future__ import annotations

from pytestqt.qtbot import QtBot

from ui.widgets.delta_coalescer import DeltaCoalescer


def test_first_delta_immediately_rest_batched(qtbot: QtBot) -> None:
    coalescer = DeltaCoalescer(interval_ms=30)
    out: list[str] = []
    coalescer.flushed.connect(out.append)
    coalescer.push("Hel")
    assert out == ["Hel"]  # time to first token is not delayed
    for piece in ("lo", ", ", "world"):
        coalescer.push(piece)
    assert out == ["Hel"]
    qtbot.waitUntil(lambda: len(out) == 2, timeout=1000)
    assert out == ["Hel", "lo, world"]


def test_quiet_period_makes_next_delta_immediate(qtbot: QtBot) -> None:
    coalescer = DeltaCoalescer(interval_ms=10)
    out: list[str] = []
    coalescer.flushed.connect(out.append)
    coalescer.push("a")
    qtbot.wait(60)  # time passing: two empty intervals stop the timer (what is tested)
    coalescer.push("b")
    assert out == ["a", "b"]
    coalescer.discard()


def test_flush_and_discard(qtbot: QtBot) -> None:
    coalescer = DeltaCoalescer(interval_ms=1000)
    out: list[str] = []
    coalescer.flushed.connect(out.append)
    coalescer.push("x")
    coalescer.push("y")
    coalescer.push("z")
    assert coalescer.pending() == "yz"
    coalescer.flush()
    assert out == ["x", "yz"]
    coalescer.push("first again")
    coalescer.push("dropped")
    coalescer.discard()
    coalescer.flush()
    assert out == ["x", "yz", "first again"]
    assert coalescer.interval_ms == 1000
