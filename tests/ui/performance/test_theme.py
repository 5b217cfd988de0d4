"""The Performance page follows a theme change (issue 15): its plots (pyqtgraph, which takes
colours as values when a plot is built) and the Benchmarks tab's table and bars, built under
one theme, show the new palette's colours after a switch, without being built again."""

from __future__ import annotations

import numpy as np
from PySide6.QtGui import QPalette
from pytestqt.qtbot import QtBot

from storage.bench import BenchResultRecord
from tests.support.themes import Themes, cell_colours, item_text_colour, on, shoot, shows
from ui.performance.page import PerformancePage
from ui.performance.series import BarSeries, Series
from ui.widgets.palette_plot import PalettePlot

MODELS = ["gemma", "qwen"]


def _record(model: str, **changes: object) -> BenchResultRecord:
    values: dict[str, object] = dict(
        model=model, model_path=f"/models/{model}.gguf", n_prompt=512, n_gen=128, depth=0,
        n_gpu_layers=0, n_batch=512, flash_attn=False, type_k="f16", type_v="f16",
        repetitions=5, pp_tps=400.0, pp_tps_sd=9.0, tg_tps=40.0, tg_tps_sd=2.0,
    )  # fmt: skip
    values.update(changes)
    return BenchResultRecord(**values)  # type: ignore[arg-type]


def _page(qtbot: QtBot) -> PerformancePage:
    page = PerformancePage()
    qtbot.addWidget(page)
    page.resize(1100, 750)
    page.set_models(MODELS)
    x = np.arange(0, 4000, 500, dtype=float)
    decode = [Series("gemma", x, 60 - x / 200), Series("qwen", x, 30 - x / 400)]
    page.set_points(decode, [Series("gemma", x, 900 - x / 20)], MODELS)
    page.show()
    return page


def _assert_in_palette(qtbot: QtBot, plot: PalettePlot) -> None:
    palette = plot.palette()
    base, text = palette.color(QPalette.ColorRole.Base), palette.color(QPalette.ColorRole.Text)
    qtbot.waitUntil(lambda: plot.backgroundBrush().color() == base)
    item = plot.getPlotItem()
    for side in ("left", "bottom"):
        assert item.getAxis(side).textPen().color() == text
        assert f"color: {text.name()}" in item.getAxis(side).labelString()
    assert f"color:{text.name()}" in item.titleLabel.item.toHtml().replace(" ", "")
    legend = item.legend
    assert legend.brush().color().rgb() == base.rgb()  # translucent over the points
    assert all(label.opts["color"] == text for _sample, label in legend.items)


def test_the_speed_plots_follow_a_theme_change(qtbot: QtBot, themes: Themes) -> None:
    themes.choose("light")
    page = _page(qtbot)
    plots = page.speed_plots()
    assert plots.decode.series_names() == MODELS
    for theme in ("dark", "light"):
        themes.choose(theme, widget=plots.decode)
        _assert_in_palette(qtbot, plots.decode)
        _assert_in_palette(qtbot, plots.prefill)
        assert plots.decode.series_names() == MODELS  # recoloured, not rebuilt
        shoot(page, f"performance-{theme}")


def test_the_benchmarks_tab_follows_a_theme_change(qtbot: QtBot, themes: Themes) -> None:
    themes.choose("light")
    page = _page(qtbot)
    tab = page.bench_tab
    page.tabs.setCurrentWidget(tab)
    failed = _record("qwen", pp_tps=None, tg_tps=None, error="out of memory")
    tab.show_results([_record("gemma"), failed])  # shown newest first: the failure on top
    tab.show_bars(
        (["pp512"], [BarSeries("gemma", (400.0,), (9.0,))]),
        (["tg128"], [BarSeries("gemma", (40.0,), (2.0,))]),
        MODELS,
    )
    plots = tab.bench_plots()
    for theme in ("dark", "light"):
        themes.choose(theme, widget=plots.pp)
        for plot in (plots.pp, plots.tg):
            _assert_in_palette(qtbot, plot)
            text = plot.text_colour()
            assert [w.opts["pen"].color().rgb() for w in plot.whiskers] == [text.rgb()]
        palette = tab.table.palette()
        muted = palette.color(QPalette.ColorRole.PlaceholderText)
        assert item_text_colour(tab.table, 0, 1) == muted
        assert item_text_colour(tab.table, 1, 1) == palette.color(QPalette.ColorRole.Text)
        base = palette.color(QPalette.ColorRole.Base)
        assert shows(cell_colours(tab.table, 0, 1), on(muted, base))
        shoot(page, f"benchmarks-{theme}")
