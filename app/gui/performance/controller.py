"""Wires the Performance page to storage: loads the replies' figures off the GUI thread
(count, first page, models and plot points in one task), pages more rows in as the table
scrolls, re-queries on a filter or sort, refreshes when a reply finishes, exports CSV.

Threads: GUI thread only; the queries run in one serial lane of a TaskRunner (a newer load
makes an older answer stale: each carries the generation it was asked for).

`install_performance(window, database, reply_finished, ...)` is what the composition root
calls; it adds the "Why is this slow?" panel's presenter (why_slow.py).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QObject, SignalInstance
from PySide6.QtWidgets import QFileDialog, QWidget

from app.gui.performance.bench_results import BenchResults
from app.gui.performance.rows import (
    PHASE_KEYS,
    csv_text,
    depth_notes,
    figures,
    series,
    storage_filter,
)
from app.gui.performance.why_slow import WhySlow
from app.gui.tasks import TaskContext, TaskRunner
from app.util.atomic_write import write_atomic
from inference.protocol import ModelInfo
from storage.bench import BenchResultRepository
from storage.database import Database
from storage.performance import PerformanceFilter, PerformanceRepository
from storage.traces import TraceRepository
from ui.main_window import MainWindow
from ui.performance.figures import ReplyFigures
from ui.performance.page import PerformancePage
from ui.performance.series import Series

PAGE_SIZE = 200  # rows per query: a screenful several times over, ~20 ms of SQLite
SHUTDOWN_WAIT_S = 2.0
LANE = "performance"

ChoosePath = Callable[[QWidget], str | None]


def ask_csv_path(parent: QWidget) -> str | None:
    """The save dialog; None when cancelled."""
    path, _kind = QFileDialog.getSaveFileName(
        parent,
        "Export replies as CSV",
        str(Path.home() / "hearth-performance.csv"),
        "CSV files (*.csv)",
    )
    if not path:
        return None
    return path if path.lower().endswith(".csv") else path + ".csv"


@dataclass(frozen=True)
class Listing:
    """What one load brings: the first rows and everything else the first paint shows."""

    total: int  # replies the filter lists
    stored_any: bool  # whether any reply is stored at all (else: the empty state)
    rows: list[ReplyFigures]
    models: list[str]
    decode: list[Series]
    prefill: list[Series]
    depth_notes: list[str]  # over the plots: models whose decoding slows with depth


class PerformanceController(QObject):
    def __init__(
        self,
        page: PerformancePage,
        repository: PerformanceRepository,
        reply_finished: SignalInstance | None = None,
        *,
        choose_path: ChoosePath = ask_csv_path,
        page_size: int = PAGE_SIZE,
        why_slow: WhySlow | None = None,
        parent: QObject | None = None,
    ) -> None:
        """`reply_finished`: emitted (with the message id) when a reply was stored, e.g.
        the chat presenter's replyFinished; `choose_path`: where the export goes;
        `why_slow`: the panel's presenter, shut down with this one."""
        super().__init__(parent)
        self._why_slow = why_slow
        self.page = page
        self._repository = repository
        self._choose_path = choose_path
        self._page_size = page_size
        self._runner = TaskRunner(self)
        self._generation = 0
        self._which = PerformanceFilter()
        self._sort, self._descending = "date", True
        self._opened = False  # loaded once: later loads only refresh
        self._stale = False  # a reply finished while the page was hidden
        self.exporting = False
        self.benchmarks: BenchResults | None = None  # the Benchmarks tab (install_performance)
        model = page.table_model
        model.sortRequested.connect(self._on_sort)
        model.moreRequested.connect(self._on_more)
        page.filtersChanged.connect(self._on_filters)
        page.exportRequested.connect(self.export)
        page.shown.connect(self._on_shown)
        if reply_finished is not None:
            reply_finished.connect(self._on_reply_finished)

    # ---- loading ------------------------------------------------------------------------

    def load(self, *, keep_rows: bool = True) -> None:
        """List the replies again (filter, sort): as many rows as are held now when
        `keep_rows` (a refresh: the view stays where it was), else a first page. The rows
        shown stay until the new ones arrive (no flash of an empty table)."""
        self._opened, self._stale = True, False
        self._generation += 1
        generation, which, sort, descending = (
            self._generation,
            self._which,
            self._sort,
            self._descending,
        )
        held = len(self.page.table_model.rows()) if keep_rows else 0
        limit = max(self._page_size, held)
        repository = self._repository

        def work(_context: TaskContext) -> Listing:
            rows = repository.replies(
                which, phase_keys=PHASE_KEYS, sort=sort, descending=descending, limit=limit
            )
            points = repository.speed_points(which)
            # The plots' points are the listed replies: their count is the table's, and
            # unfiltered, their models are the filter's (two queries fewer, ~20 ms).
            total = len(points.message_id)
            everything = which == PerformanceFilter()
            models = sorted(set(points.model)) if everything else repository.models()
            stored_any = total > 0 or (not everything and repository.count() > 0)
            decode, prefill = series(points)
            notes = depth_notes(points)  # ~4 ms for 10,000 replies: with the first paint
            rows_shown = [figures(r) for r in rows]
            return Listing(total, stored_any, rows_shown, models, decode, prefill, notes)

        if not self.page.table_model.rows():
            self.page.show_count(0, loading=True)
        self._runner.start(
            work,
            name="performance-load",
            lane=LANE,
            on_result=lambda listing: self._show(generation, listing),
            on_error=lambda exc: self._failed(generation, exc),
        )

    def _show(self, generation: int, listing: Listing) -> None:
        if generation != self._generation:
            return
        page = self.page
        page.set_models(listing.models)
        page.table_model.reset(listing.rows, listing.total)
        page.set_points(listing.decode, listing.prefill, listing.models)
        page.show_count(listing.total)
        page.set_depth_notes(listing.depth_notes)
        page.show_empty(not listing.stored_any)

    def _failed(self, generation: int, error: Exception) -> None:
        if generation == self._generation:
            self.page.show_status(f"Could not read the replies: {error}")

    def _on_more(self, offset: int) -> None:
        generation, which, sort, descending = (
            self._generation,
            self._which,
            self._sort,
            self._descending,
        )
        repository, size = self._repository, self._page_size

        def work(_context: TaskContext) -> list[ReplyFigures]:
            rows = repository.replies(
                which,
                phase_keys=PHASE_KEYS,
                sort=sort,
                descending=descending,
                limit=size,
                offset=offset,
            )
            return [figures(r) for r in rows]

        def show(rows: list[ReplyFigures]) -> None:
            if generation == self._generation:
                self.page.table_model.append(offset, rows)

        self._runner.start(work, name="performance-more", lane=LANE, on_result=show)

    # ---- what the page asks ---------------------------------------------------------------

    def _on_shown(self) -> None:
        if not self._opened or self._stale:
            self.load()

    def _on_reply_finished(self, _message_id: int) -> None:
        if not self._opened:
            return  # the first showing loads everything anyway
        if self.page.isVisible():
            self.load()
        else:
            self._stale = True

    def _on_filters(self) -> None:
        self._which = storage_filter(self.page.filters())
        self.load(keep_rows=False)

    def _on_sort(self, key: str, descending: bool) -> None:
        if (key, descending) == (self._sort, self._descending):
            return
        self._sort, self._descending = key, descending
        self.load(keep_rows=False)

    def export(self) -> None:
        """Every reply the filter lists, as the table shows them, to a CSV file."""
        path = self._choose_path(self.page)
        if path is None:
            return
        which, sort, descending = self._which, self._sort, self._descending
        repository, target = self._repository, Path(path)

        def work(_context: TaskContext) -> int:
            rows = repository.replies(
                which, phase_keys=PHASE_KEYS, sort=sort, descending=descending
            )
            write_atomic(target, csv_text([figures(r) for r in rows]))
            return len(rows)

        def done(count: int) -> None:
            self.page.show_status(f"Exported {count:,} replies to {target.name}")

        def failed(error: Exception) -> None:
            self.page.show_status(f"Could not export to {target}: {error}")

        def finished() -> None:
            self.exporting = False

        self.exporting = True
        self._runner.start(
            work,
            name="performance-export",
            lane=LANE,
            expected=(OSError,),
            on_result=done,
            on_error=failed,
            on_finished=finished,
        )

    # ---- the Benchmarks tab ------------------------------------------------------------

    def benchmarks_shown(self) -> None:
        """The Benchmarks tab came on screen: its results load the first time."""
        tab = self.page.bench_tab
        shown = self.page.isVisible() and self.page.tabs.currentWidget() is tab
        if self.benchmarks is not None and not self.benchmarks.loaded and shown:
            self.benchmarks.load()

    def show_benchmarks(self) -> None:
        """Bring the Benchmarks tab forward (the page itself is the window's to show)."""
        self.page.tabs.setCurrentWidget(self.page.bench_tab)
        if self.benchmarks is not None:
            self.benchmarks.load()

    def busy(self) -> bool:
        bench = self.benchmarks is not None and self.benchmarks.busy()
        why = self._why_slow is not None and self._why_slow.busy()
        return self._runner.busy() or bench or why

    def shutdown(self) -> None:
        deadline = time.monotonic() + SHUTDOWN_WAIT_S
        if self.benchmarks is not None:
            self.benchmarks.shutdown()
        if self._why_slow is not None:
            self._why_slow.shutdown()
        self._runner.shutdown(deadline)


def install_performance(
    window: MainWindow,
    database: Database,
    reply_finished: SignalInstance | None = None,
    *,
    model_info: Callable[[], ModelInfo | None] = lambda: None,
    open_timing: Callable[[int], None] | None = None,
) -> PerformanceController:
    """Build the Performance page, add it to the window and wire it to storage.
    `model_info`: the model loaded now (EngineSession.info); `open_timing(message_id)`: the
    timing view, for a double-clicked reply."""
    page = PerformancePage(window)
    window.add_page("Performance", page)
    performance = PerformanceRepository(database)
    why_slow = WhySlow(
        page, TraceRepository(database), performance, model_info, open_timing=open_timing
    )
    controller = PerformanceController(
        page, performance, reply_finished, why_slow=why_slow, parent=window
    )
    controller.benchmarks = BenchResults(
        page.bench_tab, BenchResultRepository(database), parent=controller
    )
    page.tabs.currentChanged.connect(lambda _i: controller.benchmarks_shown())
    page.shown.connect(controller.benchmarks_shown)
    return controller
