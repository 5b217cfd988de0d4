"""The Performance page's Benchmarks tab over a real SQLite file (issue 12): the empty state
says how to run one, stored runs list newest first with their figures, bars per
configuration and model, CSV export with `hearth bench --csv`'s columns, a refresh."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from app.cli.bench_output import FIELDS
from app.gui.performance.bench_results import BenchResults, bars
from storage.bench import BenchResultRecord, BenchResultRepository
from storage.database import Database
from ui.performance.bench_tab import COLUMNS, EMPTY_TEXT, BenchTab

COLUMN = {name: i for i, name in enumerate(COLUMNS)}


def _record(model: str, depth: int, tg: float, **changes: object) -> BenchResultRecord:
    values: dict[str, object] = dict(
        model=model,
        model_path=f"/models/{model}.gguf",
        n_prompt=512,
        n_gen=128,
        depth=depth,
        n_gpu_layers=0,
        n_gpu_layers_actual=0,
        threads=4,
        n_batch=512,
        flash_attn=False,
        type_k="f16",
        type_v="f16",
        quantization="Q4_K_M",
        repetitions=5,
        pp_tps=10 * tg,
        pp_tps_sd=3.0,
        tg_tps=tg,
        tg_tps_sd=0.5,
        llama_pp_tps=10 * tg + 1,
        llama_tg_tps=tg + 0.5,
        run_id=f"run-{model}",
    )
    values.update(changes)
    return BenchResultRecord(**values)  # type: ignore[arg-type]


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database, _note = Database.open(tmp_path / "hearth.db")
    yield database
    database.close()


@pytest.fixture
def tab(qtbot: QtBot, db: Database, tmp_path: Path) -> Iterator[tuple[BenchTab, BenchResults]]:
    tab = BenchTab()
    qtbot.addWidget(tab)
    presenter = BenchResults(
        tab, BenchResultRepository(db), choose_path=lambda _p: str(tmp_path / "bench.csv")
    )
    tab.show()
    yield tab, presenter
    presenter.shutdown()


def _load(qtbot: QtBot, presenter: BenchResults) -> None:
    presenter.load()
    qtbot.waitUntil(lambda: not presenter.busy())


def test_no_benchmark_yet_says_how_to_run_one(qtbot: QtBot, tab: tuple) -> None:
    page, presenter = tab
    _load(qtbot, presenter)
    assert page.stack.currentWidget() is page.empty_label
    assert page.empty_label.text() == EMPTY_TEXT
    assert "Benchmark…" in EMPTY_TEXT and "hearth bench" in EMPTY_TEXT
    assert not page.export_button.isEnabled()


def test_stored_runs_list_newest_first_with_figures_and_bars(
    qtbot: QtBot, tab: tuple, db: Database, tmp_path: Path
) -> None:
    page, presenter = tab
    repository = BenchResultRepository(db)
    repository.add([_record("alpha", 0, 40.0), _record("alpha", 4096, 30.0)])
    repository.add([_record("beta", 0, 20.0, n_gpu_layers=-1, n_gpu_layers_actual=12)])
    repository.add([_record("beta", 0, 0, error="failed to load model", pp_tps=None)])
    _load(qtbot, presenter)

    table = page.table
    assert page.stack.currentWidget() is page.content and table.rowCount() == 4
    assert table.item(0, COLUMN["Problem"]).text() == "failed to load model"
    row = 1  # beta, newest measured
    assert table.item(row, COLUMN["Model"]).text() == "beta · Q4_K_M"
    assert table.item(row, COLUMN["GPU layers"]).text() == "-1 (12)"
    assert table.item(row, COLUMN["tg t/s"]).text() == "20.0 ± 0.5"
    assert table.item(row, COLUMN["llama.cpp tg"]).text() == "20.5"
    assert table.item(row, COLUMN["Ratio pp / tg"]).text() == "1.00 / 0.98"
    assert table.item(2, COLUMN["Test"]).text() == "pp512 + tg128 @ d4,096"
    assert page.count_label.text() == "4 configurations"

    # Sorting by tg puts numbers in numeric order, not text order.
    table.sortItems(COLUMN["tg t/s"], Qt.SortOrder.DescendingOrder)
    assert [table.item(r, COLUMN["tg t/s"]).text() for r in range(3)] == [
        "40.0 ± 0.5",
        "30.0 ± 0.5",
        "20.0 ± 0.5",
    ]

    # GPU layers differ between the runs, so the bars' categories name them.
    categories, series = bars(repository.list(), prompt=False)
    assert categories == ["tg128 @ d0 · ngl 0", "tg128 @ d0 · ngl -1", "tg128 @ d4096 · ngl 0"]
    assert [(s.model, s.means) for s in series] == [
        ("alpha", (40.0, None, 30.0)),
        ("beta", (None, 20.0, None)),
    ]
    # The plots build themselves once there are bars on screen (a place with room to paint).
    qtbot.waitUntil(page.plots.is_built)
    assert [b.opts["name"] for b in page.bench_plots().tg.bars] == ["alpha", "beta"]

    qtbot.mouseClick(page.export_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "Exported" in page.count_label.text())
    with (tmp_path / "bench.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == list(FIELDS) and len(rows) == 4
    assert rows[3]["error"] == "failed to load model" and rows[0]["tg_tps"] == "40.0"


def test_the_latest_run_of_a_configuration_is_the_one_plotted(
    qtbot: QtBot, tab: tuple, db: Database
) -> None:
    page, presenter = tab
    repository = BenchResultRepository(db)
    repository.add([_record("alpha", 0, 40.0)])
    _load(qtbot, presenter)
    assert page.table.rowCount() == 1
    repository.add([_record("alpha", 0, 44.0)])
    presenter.refresh()
    qtbot.waitUntil(lambda: page.table.rowCount() == 2)
    categories, [series] = bars(repository.list(), prompt=True)
    assert categories == ["pp512 @ d0"] and series.means == (440.0,)
