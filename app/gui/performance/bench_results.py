"""Wires the Performance page's Benchmarks tab to the stored benchmark results: loads them off
the GUI thread when the tab is first shown (and again after a run stored more), turns them
into the plots' bars, exports CSV with the columns of `hearth bench --csv`.

Threads: GUI thread; the reads and the export run in one serial lane of a TaskRunner.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QFileDialog, QWidget

from app.cli.bench_output import as_csv
from app.gui.tasks import TaskRunner
from app.util.atomic_write import write_atomic
from storage.bench import BenchResultRecord, BenchResultRepository
from ui.performance.bench_tab import BenchTab
from ui.performance.series import BarSeries

LANE = "benchmarks"
SHUTDOWN_WAIT_S = 2.0

ChoosePath = Callable[[QWidget], str | None]
Bars = tuple[list[str], list[BarSeries]]


def ask_csv_path(parent: QWidget) -> str | None:
    path, _kind = QFileDialog.getSaveFileName(
        parent,
        "Export benchmarks as CSV",
        str(Path.home() / "hearth-bench.csv"),
        "CSV files (*.csv)",
    )
    if not path:
        return None
    return path if path.lower().endswith(".csv") else path + ".csv"


# The load settings a bar's label names when they differ between the stored runs.
_SETTINGS: tuple[tuple[str, Callable[[BenchResultRecord], str]], ...] = (
    ("ngl", lambda r: f"ngl {r.n_gpu_layers}"),
    ("threads", lambda r: f"t {r.threads if r.threads is not None else 'auto'}"),
    ("batch", lambda r: f"b {r.n_batch}"),
    ("fa", lambda r: "fa on" if r.flash_attn else "fa off"),
    ("kv", lambda r: f"kv {r.type_k}/{r.type_v}"),
)


def bars(records: Sequence[BenchResultRecord], *, prompt: bool) -> Bars:
    """Categories (a test at a depth, with the settings that vary between runs) and one
    series per model holding, per category, its latest run's mean and standard deviation.
    Failed configurations and tests not measured are left out."""

    def figure(r: BenchResultRecord) -> tuple[float | None, float | None]:
        return (r.pp_tps, r.pp_tps_sd) if prompt else (r.tg_tps, r.tg_tps_sd)

    measured = [r for r in records if r.error is None and figure(r)[0]]
    varying = [
        describe for _name, describe in _SETTINGS if len({describe(r) for r in measured}) > 1
    ]

    def category(r: BenchResultRecord) -> str:
        test = f"pp{r.n_prompt}" if prompt else f"tg{r.n_gen}"
        return " · ".join([f"{test} @ d{r.depth}", *(describe(r) for describe in varying)])

    categories: list[str] = []
    latest: dict[tuple[str, str], BenchResultRecord] = {}
    for record in sorted(measured, key=lambda r: (r.depth, r.id)):
        name = category(record)
        if name not in categories:
            categories.append(name)
        latest[(record.model, name)] = record  # later ids replace earlier runs
    models = sorted({r.model for r in measured})
    series = []
    for model in models:
        values = [
            figure(latest[(model, c)]) if (model, c) in latest else (None, None) for c in categories
        ]
        series.append(BarSeries(model, tuple(m for m, _s in values), tuple(s for _m, s in values)))
    return categories, series


@dataclass(frozen=True)
class BenchListing:
    records: list[BenchResultRecord]
    pp: Bars
    tg: Bars
    models: list[str]


class BenchResults(QObject):
    def __init__(
        self,
        tab: BenchTab,
        repository: BenchResultRepository,
        *,
        choose_path: ChoosePath = ask_csv_path,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.tab = tab
        self._repository = repository
        self._choose_path = choose_path
        self._runner = TaskRunner(self)
        self._generation = 0
        self.loaded = False
        tab.exportRequested.connect(self.export)

    def load(self) -> None:
        """Read every stored result again (the newest load's answer wins)."""
        self.loaded = True
        self._generation += 1
        generation, repository = self._generation, self._repository

        def work(_context: object) -> BenchListing:
            records = repository.list()
            models = sorted({r.model for r in records})
            return BenchListing(
                records, bars(records, prompt=True), bars(records, prompt=False), models
            )

        def show(listing: BenchListing) -> None:
            if generation == self._generation:
                self.tab.show_results(listing.records)
                self.tab.show_bars(listing.pp, listing.tg, listing.models)

        self._runner.start(
            work,
            name="benchmarks-load",
            lane=LANE,
            on_result=show,
            on_error=lambda exc: self.tab.show_status(f"Could not read the benchmarks: {exc}"),
        )

    def refresh(self) -> None:
        """A run stored results: list them again once the tab has been opened."""
        if self.loaded:
            self.load()

    def export(self) -> None:
        path = self._choose_path(self.tab)
        if path is None:
            return
        repository, target = self._repository, Path(path)

        def work(_context: object) -> int:
            records = repository.list()
            write_atomic(target, as_csv(records))
            return len(records)

        self._runner.start(
            work,
            name="benchmarks-export",
            lane=LANE,
            expected=(OSError,),
            on_result=lambda n: self.tab.show_status(f"Exported {n:,} results to {target.name}"),
            on_error=lambda exc: self.tab.show_status(f"Could not export to {target}: {exc}"),
        )

    def busy(self) -> bool:
        return self._runner.busy()

    def shutdown(self) -> None:
        self._runner.shutdown(time.monotonic() + SHUTDOWN_WAIT_S)
