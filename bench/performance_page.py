"""The Performance page opening with 10,000 stored replies (issue 12 goal: <= 200 ms to
first paint).

Run: PYTHONPATH=. .venv/bin/python bench/performance_page.py [--replies 10000] [--repeat 10]
     [--shot /tmp/page.png]

Builds a temporary database with bench/performance_query.py's builder (two models), its
speeds made to fall with context depth as real ones do (for the plots and the screenshot).
Then, in turns (interleaved, so drift on a shared machine hits both alike), it opens:

- baseline: a window holding an empty QTableView (with the same model columns: no rows);
- page: a fresh PerformancePage with its presenter (app/gui/performance) over the database,
  as `hearth gui` builds it, nothing loaded before.

One figure, each: from show() to the first paint that shows the result, offscreen
(QT_QPA_PLATFORM=offscreen), time.perf_counter: for the baseline the table's first paint;
for the page the first moment both the table's viewport has painted with rows in it and
both plots have painted with their points (the query runs off the GUI thread, so the page
paints empty first; that earlier paint does not count). Prints median, min and max in ms
and the page's median over the baseline's. Prints figures; never asserts.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from PySide6.QtCore import QEvent, QObject
from PySide6.QtWidgets import QApplication, QTableView, QVBoxLayout, QWidget

from app.gui.performance.controller import PerformanceController
from bench.performance_query import build
from storage.database import Database
from storage.performance import PerformanceRepository
from ui.performance.page import PerformancePage
from ui.performance.table_model import PerformanceTableModel

MODELS = ("gemma-3-270m-Q4_K_M", "qwen2.5-0.5b-Q8_0")
DEADLINE_S = 10.0


def realistic_speeds(db: Database) -> None:
    """Decode slows with context depth, prefill with prompt length, per model, with noise
    (the builder's figures are plain cycles)."""
    with db.session() as session:
        session.connection().exec_driver_sql(
            "UPDATE generation_stats SET "
            "decode_tps = (CASE WHEN model LIKE 'gemma%' THEN 95.0 ELSE 48.0 END)"
            " * (1.0 - prompt_tokens / 9000.0) + (message_id * 7919 % 100) / 20.0,"
            " prefill_tps = (CASE WHEN model LIKE 'gemma%' THEN 2400.0 ELSE 1100.0 END)"
            " / (1.0 + prompt_tokens_evaluated / 3000.0) + (message_id * 104729 % 100)"
        )


class _Paints(QObject):
    """Calls `check` after every paint of the widgets it watches."""

    def __init__(self, widgets: list[QWidget], check: Callable[[], None]) -> None:
        super().__init__()
        self._check = check
        for widget in widgets:
            widget.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Paint:
            self._check()
        return False


def _wait(app: QApplication, done: Callable[[], bool]) -> None:
    deadline = time.perf_counter() + DEADLINE_S
    while not done() and time.perf_counter() < deadline:
        app.processEvents()
        time.sleep(0.0005)
    if not done():
        raise RuntimeError("nothing painted in time")


def open_baseline(app: QApplication) -> float:
    window = QWidget()
    window.resize(1100, 750)
    table = QTableView(window)
    table.setModel(PerformanceTableModel(table))
    QVBoxLayout(window).addWidget(table)
    painted: list[float] = []
    watch = _Paints([table.viewport()], lambda: painted.append(time.perf_counter()))
    began = time.perf_counter()
    window.show()
    _wait(app, lambda: bool(painted))
    window.close()
    window.deleteLater()
    del watch
    return (painted[0] - began) * 1000


def open_page(app: QApplication, db: Database, shot: Path | None = None) -> float:
    page = PerformancePage()
    page.resize(1100, 750)
    controller = PerformanceController(page, PerformanceRepository(db))
    marks: dict[str, float] = {}

    def check() -> None:
        now = time.perf_counter()
        if page.table_model.rowCount() and "rows" not in marks:
            marks["rows"] = now
        for name, plot in (("decode", page.plots.decode), ("prefill", page.plots.prefill)):
            if plot.series_names() and name not in marks:
                marks[name] = now

    watched = [page.table.viewport(), page.plots.decode.viewport(), page.plots.prefill.viewport()]
    watch = _Paints(watched, check)
    began = time.perf_counter()
    page.show()
    _wait(app, lambda: len(marks) == 3)
    if shot is not None:
        page.grab().save(str(shot))
    controller.shutdown()
    page.close()
    page.deleteLater()
    del watch
    return (max(marks.values()) - began) * 1000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--replies", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--shot", type=Path, default=None, help="save a screenshot here")
    args = parser.parse_args()
    app = QApplication.instance() or QApplication(sys.argv)
    with tempfile.TemporaryDirectory() as folder:
        db, _ = Database.open(Path(folder) / "hearth.db")
        try:
            build(db, args.replies, MODELS)
            realistic_speeds(db)
            open_baseline(app), open_page(app, db, args.shot)  # warm: imports, caches
            times: dict[str, list[float]] = {"baseline: empty QTableView": [], "page": []}
            for _ in range(args.repeat):
                times["baseline: empty QTableView"].append(open_baseline(app))
                times["page"].append(open_page(app, db))
        finally:
            db.close()
    base = statistics.median(times["baseline: empty QTableView"])
    print(f"{args.replies} replies, {args.repeat} interleaved opens each (ms: median [min-max])")
    for name, values in times.items():
        median = statistics.median(values)
        print(
            f"  {name:30s} {median:8.1f} [{min(values):.1f}-{max(values):.1f}]"
            f"  x{median / base:.1f}"
        )


if __name__ == "__main__":
    main()
