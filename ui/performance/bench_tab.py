"""The Performance page's Benchmarks tab: every stored benchmark configuration (the Models
page's Benchmark… button and `hearth bench`) in a sortable table, pp and tg plotted per
configuration and depth with one bar per model, CSV export, and an empty state saying how
to run one. Passive: app/gui/performance/bench_results.py fills it.

Signals: ``exportRequested()``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from storage.bench import BenchResultRecord
from ui.performance.series import MIN_PLOT_HEIGHT, BarSeries
from ui.widgets.lazy_widget import LazyWidget
from ui.widgets.muted_items import mute, show_muted_items

if TYPE_CHECKING:
    from ui.performance.bench_plots import BenchPlots

Bars = tuple[list[str], list[BarSeries]]  # categories and one series per model

EMPTY_TEXT = (
    "No benchmarks yet.\n"
    "Select a model on the Models page and press Benchmark…, or run `hearth bench` in a "
    "terminal (it can also compare GPU layers, threads, batch sizes, flash attention and KV "
    "cache types). Prompt and generation speed, beside llama.cpp's own figures, show up here."
)
COLUMNS = (
    "Date",
    "Model",
    "Test",
    "GPU layers",
    "Threads",
    "Batch",
    "Flash attn",
    "KV cache",
    "pp t/s",
    "tg t/s",
    "llama.cpp pp",
    "llama.cpp tg",
    "Ratio pp / tg",
    "Runs",
    "Problem",
)
HELP = {
    "pp t/s": "Prompt tokens ÷ the prompt's wall-clock time in Hearth's engine (mean ± sd)",
    "tg t/s": "Generated tokens ÷ their wall-clock time in Hearth's engine (mean ± sd)",
    "llama.cpp pp": "The same runs by llama.cpp's own counters (n_p_eval ÷ t_p_eval)",
    "llama.cpp tg": "The same runs by llama.cpp's own counters (n_eval ÷ t_eval)",
    "Ratio pp / tg": "Hearth's figure ÷ llama.cpp's for the same runs (1.00: no overhead)",
    "GPU layers": "Asked for (what llama.cpp offloaded, when different); -1: all",
}


def _tps(mean: float | None, sd: float | None) -> str:
    if mean is None:
        return ""
    return f"{mean:,.1f}" + (f" ± {sd:,.1f}" if sd is not None else "")


def _ratio(value: float | None) -> str:
    return "–" if value is None else f"{value:.2f}"


def _cells(r: BenchResultRecord) -> tuple[tuple[str, object], ...]:
    """(text, sort key) per column."""
    depth = f" @ d{r.depth:,}" if r.depth else ""
    test = (
        " + ".join(
            part
            for part in (f"pp{r.n_prompt}" * bool(r.n_prompt), f"tg{r.n_gen}" * bool(r.n_gen))
            if part
        )
        + depth
    )
    ngl = str(r.n_gpu_layers)
    if r.n_gpu_layers_actual is not None and r.n_gpu_layers_actual != r.n_gpu_layers:
        ngl += f" ({r.n_gpu_layers_actual})"
    when = r.created_at.strftime("%Y-%m-%d %H:%M") if r.created_at else ""
    model = r.model + (f" · {r.quantization}" if r.quantization else "")
    failed = "failed" if r.error else ""
    return (
        (when, r.id),
        (model, model),
        (test, (r.n_prompt, r.n_gen, r.depth)),
        (ngl, r.n_gpu_layers),
        ("auto" if r.threads is None else str(r.threads), r.threads or 0),
        (str(r.n_batch), r.n_batch),
        ("on" if r.flash_attn else "off", r.flash_attn),
        (f"{r.type_k}/{r.type_v}", f"{r.type_k}/{r.type_v}"),
        (_tps(r.pp_tps, r.pp_tps_sd) or failed, r.pp_tps or 0.0),
        (_tps(r.tg_tps, r.tg_tps_sd) or failed, r.tg_tps or 0.0),
        (_tps(r.llama_pp_tps, None), r.llama_pp_tps or 0.0),
        (_tps(r.llama_tg_tps, None), r.llama_tg_tps or 0.0),
        (f"{_ratio(r.pp_ratio)} / {_ratio(r.tg_ratio)}", r.tg_ratio or 0.0),
        (str(r.repetitions), r.repetitions),
        (r.error or "", r.error or ""),
    )


class _Item(QTableWidgetItem):
    """Sorts by its key (numbers as numbers), not by its text."""

    def __init__(self, text: str, key: object) -> None:
        super().__init__(text)
        self.key = key

    def __lt__(self, other: QTableWidgetItem) -> bool:
        if isinstance(other, _Item):
            try:
                return bool(self.key < other.key)  # type: ignore[operator]
            except TypeError:
                pass
        return super().__lt__(other)


class BenchTab(QWidget):
    exportRequested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.count_label = QLabel("", self)
        self.export_button = QPushButton("Export CSV…", self)
        self.export_button.setToolTip(
            "Save every stored benchmark as CSV (the columns of `hearth bench --csv`)"
        )
        bar = QHBoxLayout()
        bar.addWidget(self.count_label, 1)
        bar.addWidget(self.export_button)
        self.table = QTableWidget(0, len(COLUMNS), self)
        self.table.setHorizontalHeaderLabels(list(COLUMNS))
        for index, column in enumerate(COLUMNS):
            if column in HELP:
                self.table.horizontalHeaderItem(index).setToolTip(HELP[column])
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        show_muted_items(self.table)  # failed ones grey in the palette of the moment
        self.table.verticalHeader().hide()
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        header.setSortIndicator(0, Qt.SortOrder.DescendingOrder)
        # Built after the table has painted, once there are bars, or when asked for:
        # pyqtgraph's import is not paid at start-up (ui/widgets/lazy_widget.py).
        self.plots = LazyWidget(_build_bench_plots, self)
        self.plots.setMinimumHeight(MIN_PLOT_HEIGHT)  # the splitter keeps their room
        self._bars: tuple[Bars, Bars, list[str]] | None = None
        self.plots.built.connect(lambda _plots: self._apply_bars())
        self.content = QSplitter(Qt.Orientation.Vertical, self)
        self.content.addWidget(self.table)
        self.content.addWidget(self.plots)
        self.content.setStretchFactor(0, 2)
        self.content.setStretchFactor(1, 3)
        # Proportions (scaled to the tab's height): the plots' place has no size of its own
        # to ask for until they are built.
        self.content.setSizes([240, 360])
        self.content.setChildrenCollapsible(False)
        self.empty_label = QLabel(EMPTY_TEXT, self)
        self.empty_label.setWordWrap(True)
        self.empty_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.stack = QStackedWidget(self)
        self.stack.addWidget(self.content)
        self.stack.addWidget(self.empty_label)
        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addWidget(self.stack, 1)
        self.export_button.clicked.connect(self.exportRequested)
        self.show_results([])

    # ---- the presenter's API -------------------------------------------------------------

    def show_results(self, records: Sequence[BenchResultRecord]) -> None:
        """The table, newest first; the empty state when there is none."""
        self.table.setSortingEnabled(False)
        self.table.setRowCount(len(records))
        for row, record in enumerate(reversed(records)):
            for column, (text, key) in enumerate(_cells(record)):
                item = _Item(text, key)
                if column >= COLUMNS.index("pp t/s") and column < COLUMNS.index("Problem"):
                    item.setTextAlignment(
                        Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
                    )
                if record.error:  # muted, its reason in the tooltip and the last column
                    item.setToolTip(record.error)
                    mute(item)
                self.table.setItem(row, column, item)
        self.table.setSortingEnabled(True)
        self.table.resizeColumnsToContents()
        self.stack.setCurrentWidget(self.content if records else self.empty_label)
        self.export_button.setEnabled(bool(records))
        count = len(records)
        self.count_label.setText(
            "" if not count else f"{count:,} configurations" if count != 1 else "1 configuration"
        )

    def show_bars(
        self,
        pp: Bars,
        tg: Bars,
        models: list[str],
    ) -> None:
        self._bars = (pp, tg, models)
        self._apply_bars()
        self.plots.request()

    def bench_plots(self) -> BenchPlots:
        """The pp and tg plots, built now if they were not yet (with the bars last set)."""
        return self.plots.content()  # type: ignore[return-value]

    def _apply_bars(self) -> None:
        if self._bars is not None and self.plots.is_built():
            pp, tg, models = self._bars
            self.bench_plots().set_bars(pp[0], pp[1], tg[0], tg[1], models)

    def show_status(self, text: str) -> None:
        self.count_label.setText(text)
        self.count_label.setToolTip(text)


def _build_bench_plots(parent: QWidget) -> QWidget:
    from ui.performance.bench_plots import BenchPlots  # pyqtgraph: imported only now

    return BenchPlots(parent)
