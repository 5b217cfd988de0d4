"""The Models page's parts and the benchmark dialog follow a theme change (issue 15): the
Recommended tab's licence link, the Servers tab's failed test, and the benchmark dialog's
error line and results link, shown under one theme, read right under the other."""

from __future__ import annotations

from pytestqt.qtbot import QtBot

from tests.support.themes import Themes, reads_as_warning, shoot, shows_link
from ui.models.bench_dialog import BenchDialog
from ui.models.connections import ConnectionsPanel
from ui.models.recommended import RecommendedPanel, RecommendedRow

ROW = RecommendedRow(
    key="a", name="Model a", parameters="3B", size="2.0 GB", licence="Apache-2.0",
    licence_url="https://www.apache.org/licenses/LICENSE-2.0", fit="fits in RAM",
    fit_details="fits in RAM: ~2.6 GB of 12 GB free RAM", description="A small model.",
    repo_id="owner/repo", filename="a-Q4_K_M.gguf", state="available",
)  # fmt: skip


def test_the_benchmark_dialogs_error_and_results_link(qtbot: QtBot, themes: Themes) -> None:
    themes.choose("light")
    failed, done = BenchDialog("gemma"), BenchDialog("gemma")
    for dialog in (failed, done):
        qtbot.addWidget(dialog)
        dialog.show()
    failed.show_failure("The model could not be loaded: out of memory.")
    done.show_done("pp 400 t/s, tg 40 t/s", stored=True)
    for theme in ("dark", "light"):
        themes.choose(theme, widget=failed.error_label)
        qtbot.waitUntil(lambda: reads_as_warning(failed.error_label))
        qtbot.waitUntil(lambda: shows_link(done.results_label))
        shoot(failed, f"bench-dialog-failed-{theme}")
        shoot(done, f"bench-dialog-done-{theme}")


def test_a_failed_server_test_reads_in_either_theme(qtbot: QtBot, themes: Themes) -> None:
    themes.choose("light")
    panel = ConnectionsPanel()
    qtbot.addWidget(panel)
    panel.show()
    panel.show_result("The server did not answer: connection refused.", error=True)
    for theme in ("dark", "light"):
        themes.choose(theme, widget=panel.result_label)
        qtbot.waitUntil(lambda: reads_as_warning(panel.result_label))
        shoot(panel, f"servers-{theme}")
    panel.show_result("Connected: 3 models.")
    assert not reads_as_warning(panel.result_label)


def test_the_recommended_licence_link_follows_the_theme(qtbot: QtBot, themes: Themes) -> None:
    themes.choose("light")
    panel = RecommendedPanel()
    qtbot.addWidget(panel)
    panel.resize(900, 400)
    panel.show()
    panel.show_rows([ROW])
    assert "href=" in panel.details.text()
    for theme in ("dark", "light"):
        themes.choose(theme, widget=panel.details)
        qtbot.waitUntil(lambda: shows_link(panel.details))
        shoot(panel, f"recommended-{theme}")
