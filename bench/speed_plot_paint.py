"""What one update of the status bar's live speed plot costs: the QPainter sparkline Hearth
uses (ui/chat/speed_plot.py) against a pyqtgraph PlotWidget set up to look the same.

Run: .venv/bin/python bench/speed_plot_paint.py [--updates 400] [--rounds 5]

One update = handing the plot the latest 40 points (10 s at 4 Hz) and running the event loop
until it has painted (twice `processEvents`: pyqtgraph defers range and scene updates, which
post further events), timed with perf_counter from before the hand-over to after that. Each
plot is its own offscreen window, so neither pays for the other's paint. The two
plots alternate update by update in rounds (ABAB...), 120 × 22 px, offscreen. Also times
`import pyqtgraph` in fresh interpreters (PySide6 already imported): what the window would
pay at start-up for a pyqtgraph status-bar plot. Prints medians, p95 and the ratio; never
asserts.
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

if "DISPLAY" not in os.environ and "WAYLAND_DISPLAY" not in os.environ:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from PySide6.QtWidgets import QApplication, QHBoxLayout, QWidget

from ui.chat.speed_plot import SpeedPlot

WIDTH, HEIGHT = 120, 22


def series(step: int) -> list[tuple[float, float]]:
    """40 points (10 s at 4 Hz) of a speed that wobbles and drifts, moved on by `step`."""
    return [
        ((step + i) * 0.25, 20 + 3 * math.sin((step + i) / 3) - (step + i) * 0.01)
        for i in range(40)
    ]


def pyqtgraph_plot(parent: QWidget) -> tuple[QWidget, Callable[[list[tuple[float, float]]], None]]:
    import pyqtgraph as pg

    widget = pg.PlotWidget(parent)
    widget.setFixedSize(WIDTH, HEIGHT)
    widget.hideAxis("left")
    widget.hideAxis("bottom")
    widget.setMenuEnabled(False)
    widget.setMouseEnabled(x=False, y=False)
    widget.hideButtons()
    widget.setBackground(None)
    curve = widget.plot(
        [], [], pen=pg.mkPen("#3875d7", width=1.5), fillLevel=0, brush=(56, 117, 215, 50)
    )

    def update(points: list[tuple[float, float]]) -> None:
        curve.setData([t for t, _ in points], [s for _, s in points])
        widget.setXRange(points[-1][0] - 10, points[-1][0], padding=0)
        widget.setYRange(0, max(s for _, s in points) * 1.15, padding=0)

    return widget, update


def import_ms(runs: int) -> list[float]:
    code = (
        "import time, PySide6.QtWidgets; t = time.perf_counter(); import pyqtgraph; "
        "print((time.perf_counter() - t) * 1000)"
    )
    out = []
    for _ in range(runs):
        result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
        out.append(float(result.stdout.strip()))
    return out


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[round(0.95 * (len(ordered) - 1))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--updates", type=int, default=400, help="per plot per round")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()

    app = QApplication.instance() or QApplication(sys.argv)
    windows = [QWidget(), QWidget()]
    sparkline = SpeedPlot(windows[0])
    sparkline.setFixedHeight(HEIGHT)
    graph, graph_update = pyqtgraph_plot(windows[1])
    for window, plot in zip(windows, (sparkline, graph), strict=True):
        QHBoxLayout(window).addWidget(plot)
        window.show()
    sparkline.show_points(series(0))
    graph_update(series(0))
    app.processEvents()

    def one(update: Callable[[list[tuple[float, float]]], None], step: int) -> float:
        points = series(step)
        started = time.perf_counter()
        update(points)
        # Both paint on the event loop, as in the app; pyqtgraph also defers its range and
        # scene updates there, which post further events: run it twice.
        app.processEvents()
        app.processEvents()
        return (time.perf_counter() - started) * 1000

    ours: list[float] = []
    theirs: list[float] = []
    round_ratios: list[float] = []
    for r in range(args.rounds):
        a: list[float] = []
        b: list[float] = []
        for step in range(args.updates):
            a.append(one(sparkline.show_points, r * args.updates + step))
            b.append(one(graph_update, r * args.updates + step))
        app.processEvents()
        ours += a
        theirs += b
        round_ratios.append(statistics.median(b) / statistics.median(a))
    imports = import_ms(3)

    rows = [
        ("updates timed", f"{len(ours)} each, {args.rounds} rounds, alternating"),
        ("QPainter sparkline", f"median {statistics.median(ours):.3f} ms, p95 {p95(ours):.3f} ms"),
        (
            "pyqtgraph PlotWidget",
            f"median {statistics.median(theirs):.3f} ms, p95 {p95(theirs):.3f} ms",
        ),
        (
            "pyqtgraph / sparkline",
            f"{statistics.median(round_ratios):.1f}x "
            f"(rounds {min(round_ratios):.1f}-{max(round_ratios):.1f}x)",
        ),
        ("at 4 Hz, sparkline", f"{4 * statistics.median(ours):.2f} ms of GUI time a second"),
        ("at 4 Hz, pyqtgraph", f"{4 * statistics.median(theirs):.2f} ms of GUI time a second"),
        ("import pyqtgraph", ", ".join(f"{ms:.0f}" for ms in imports) + " ms (fresh interpreters)"),
    ]
    width = max(len(name) for name, _ in rows)
    for name, value in rows:
        print(f"{name:<{width}}  {value}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
