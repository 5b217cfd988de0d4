"""The Models page on its own: plain rows in, user actions out as signals."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from tests.support.qt_user import file_drag
from tests.support.themes import Themes, cell_colours, item_text_colour, on, shoot, shows
from ui.models.page import EMPTY_HINT, IN_USE_MARK, ModelsPage
from ui.models.rows import (
    AUTO,
    CUSTOM,
    DownloadState,
    FitView,
    InstalledRow,
    LoadedView,
    RemoteFileRow,
    RepoRow,
    SettingsValues,
)

ROWS = [
    InstalledRow("/m/gemma.gguf", "Gemma 3 270M", "gemma3", "270M", "Q4_K_M", "253 MB", "32,768",
                 True, "built-in: /m", "built-in", in_use=True),
    InstalledRow("/m/qwen.gguf", "Qwen2.5 0.5B", "qwen2", "494M", "Q8_0", "531 MB", "32,768",
                 True, "imported: /x", "imported", removable=True),
    InstalledRow("/m/broken.gguf", "broken", error="The model file is damaged."),
]  # fmt: skip
VALUES = SettingsValues(
    n_ctx=4096,
    n_gpu_layers=0,
    gpu_auto=False,
    n_threads=0,
    n_batch=512,
    flash_attn="auto",
    chat_format=AUTO,
    custom_template="",
    system_prompt="",
    temperature=0.7,
    top_p=0.95,
    top_k=40,
    min_p=0.05,
    repeat_penalty=1.1,
    seed=None,
    max_context=32768,
    total_layers=19,
    formats=((AUTO, "Automatic"), ("chatml", "ChatML (built-in)")),
)


def _page(qtbot: QtBot) -> ModelsPage:
    page = ModelsPage()
    qtbot.addWidget(page)
    page.resize(1100, 750)
    page.show()
    return page


def _click_row(qtbot: QtBot, page: ModelsPage, row: int, *, double: bool = False) -> None:
    rect = page.table.visualRect(page.table.model().index(row, 0))
    click = qtbot.mouseDClick if double else qtbot.mouseClick
    click(page.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())


def test_installed_rows_mark_the_model_in_use(qtbot: QtBot) -> None:
    page = _page(qtbot)
    assert not page.empty_label.isHidden() and page.empty_label.text() == EMPTY_HINT
    page.show_installed(ROWS)
    assert page.empty_label.isHidden()
    assert page.table.item(0, 0).text() == IN_USE_MARK + "Gemma 3 270M"
    assert page.table.item(0, 0).font().bold()
    assert page.table.item(1, 0).text() == "Qwen2.5 0.5B"
    assert page.table.item(1, 5).text() == "yes"
    assert page.table.item(2, 1).text() == "unusable"
    assert "damaged" in page.table.item(2, 0).toolTip()

    _click_row(qtbot, page, 0)
    assert not page.use_button.isEnabled()  # already in use
    assert not page.remove_button.isEnabled()
    _click_row(qtbot, page, 2)
    assert not page.use_button.isEnabled() and not page.details_button.isEnabled()
    _click_row(qtbot, page, 1)
    assert page.use_button.isEnabled() and page.remove_button.isEnabled()
    with qtbot.waitSignal(page.useRequested) as used:
        qtbot.mouseClick(page.use_button, Qt.MouseButton.LeftButton)
    assert used.args == ["/m/qwen.gguf"]
    with qtbot.waitSignal(page.useRequested) as used:
        _click_row(qtbot, page, 1, double=True)
    assert used.args == ["/m/qwen.gguf"]
    with qtbot.waitSignal(page.detailsRequested) as details:
        qtbot.mouseClick(page.details_button, Qt.MouseButton.LeftButton)
    assert details.args == ["/m/qwen.gguf"]
    # A refresh keeps the selection.
    page.show_installed(ROWS)
    assert page.selected_path() == "/m/qwen.gguf"


def test_benchmark_asks_for_the_selected_usable_model(qtbot: QtBot) -> None:
    page = _page(qtbot)
    page.show_installed(ROWS)
    _click_row(qtbot, page, 2)
    assert not page.benchmark_button.isEnabled()  # an unusable model cannot run
    _click_row(qtbot, page, 0)  # the model in use can
    with qtbot.waitSignal(page.benchmarkRequested) as asked:
        qtbot.mouseClick(page.benchmark_button, Qt.MouseButton.LeftButton)
    assert asked.args == ["/m/gemma.gguf"]


def test_dropping_gguf_files_asks_to_import_them(qtbot: QtBot, tmp_path: Path) -> None:
    page = _page(qtbot)
    enter, _drop = file_drag([tmp_path / "notes.txt"], QPoint(5, 5))
    QApplication.sendEvent(page, enter)
    assert not enter.isAccepted()
    enter, drop = file_drag([tmp_path / "a.gguf", tmp_path / "b.txt"], QPoint(5, 5))
    QApplication.sendEvent(page, enter)
    assert enter.isAccepted()
    with qtbot.waitSignal(page.importRequested) as requested:
        QApplication.sendEvent(page, drop)
    assert requested.args == [[str(tmp_path / "a.gguf")]]


def test_settings_form_asks_for_a_fit_and_saves_what_was_typed(qtbot: QtBot) -> None:
    page = _page(qtbot)
    form = page.settings_form
    assert not form.isEnabled()
    form.set_values("Settings for Qwen", VALUES)
    assert form.layers_value.text() == "0 of 19"
    form.layers_slider.setFocus()
    with qtbot.waitSignal(form.fitRequested) as fit:
        qtbot.keyClick(form.layers_slider, Qt.Key.Key_End)
    assert fit.args == [4096, 19, False, 512, "auto"]
    assert form.layers_value.text() == "19 of 19"
    form.show_fit(FitView("fits on GPU", "fits on GPU: needs 1.0 GiB VRAM", "Weights …", 19, 19))
    assert form.fit_label.text() == "Fits on GPU: needs 1.0 GiB VRAM"

    form.format_combo.setCurrentIndex(form.format_combo.findData(CUSTOM))
    assert not form.template_edit.isHidden()
    qtbot.keyClicks(form.template_edit, "{{ messages }}")
    qtbot.keyClicks(form.system_edit, "Answer in French.")
    form.seed_spin.selectAll()
    qtbot.keyClicks(form.seed_spin, "7")
    with qtbot.waitSignal(form.saveRequested) as saved:
        qtbot.mouseClick(form.save_button, Qt.MouseButton.LeftButton)
    values = saved.args[0]
    assert values.n_gpu_layers == 19 and values.chat_format == CUSTOM
    assert values.custom_template == "{{ messages }}"
    assert values.system_prompt == "Answer in French." and values.seed == 7

    form.show_saved("Saved. The context size change takes effect after reload.", needs_reload=True)
    assert not form.reload_bar.action_button.isHidden()
    with qtbot.waitSignal(form.reloadRequested):
        qtbot.mouseClick(form.reload_bar.action_button, Qt.MouseButton.LeftButton)


def test_flash_attention_is_automatic_on_or_off_and_says_what_automatic_became(
    qtbot: QtBot,
) -> None:
    page = _page(qtbot)
    page.show_installed(ROWS)
    form = page.settings_form
    form.set_values("Settings for Gemma 3 270M", replace(VALUES, flash_resolved="on"))
    combo = form.flash_combo
    choices = [(combo.itemData(i), combo.itemText(i)) for i in range(combo.count())]
    assert choices == [("auto", "Automatic (now on)"), ("on", "On"), ("off", "Off")]
    assert combo.currentData() == "auto"
    form.ensureWidgetVisible(combo)
    shot = page.grab()
    assert not shot.isNull() and shot.save("/tmp/i13-fa-models-page.png")
    combo.setFocus()
    with qtbot.waitSignal(form.fitRequested) as fit:
        qtbot.keyClick(combo, Qt.Key.Key_End)  # the last choice: Off
    assert fit.args[4] == "off"
    with qtbot.waitSignal(form.saveRequested) as saved:
        qtbot.mouseClick(form.save_button, Qt.MouseButton.LeftButton)
    assert saved.args[0].flash_attn == "off" and saved.args[0].flash_resolved == "on"
    form.show_flash_resolved("")  # the model was unloaded
    assert combo.itemText(0) == "Automatic" and combo.currentData() == "off"


def test_auto_disables_the_slider_and_follows_the_estimate(qtbot: QtBot) -> None:
    page = _page(qtbot)
    form = page.settings_form
    form.set_values("Settings", VALUES)
    with qtbot.waitSignal(form.fitRequested) as fit:
        qtbot.mouseClick(form.auto_check, Qt.MouseButton.LeftButton)
    assert fit.args[2] is True and not form.layers_slider.isEnabled()
    form.show_fit(FitView("partly on GPU", "partly on GPU (12 of 19 layers)", "", 12, 19))
    assert form.layers_slider.value() == 12 and form.layers_value.text() == "12 of 19"


def test_hub_panel_search_files_and_download_states(qtbot: QtBot) -> None:
    page = _page(qtbot)
    hub = page.hub
    page.tabs.setCurrentWidget(hub)
    qtbot.keyClick(hub.search_edit, Qt.Key.Key_Return)
    assert "Type what to search for" in hub.status_label.text()
    with qtbot.waitSignal(hub.searchRequested) as searched:
        qtbot.keyClicks(hub.search_edit, "gemma")
        qtbot.keyClick(hub.search_edit, Qt.Key.Key_Return)
    assert searched.args == ["gemma"]
    hub.show_repos([RepoRow("a/gemma-GGUF", "1,000", False), RepoRow("b/x", "5", True)])
    assert hub.repo_table.item(1, 2).text() == "gated: token"
    with qtbot.waitSignal(hub.repoSelected) as picked:
        hub.repo_table.selectRow(0)
    assert picked.args == ["a/gemma-GGUF"]
    hub.show_files(
        "a/gemma-GGUF",
        [
            RemoteFileRow("g-Q4_K_M.gguf", "Q4_K_M", "253 MB", 1, "CPU only: about 660 MiB"),
            RemoteFileRow("g-F16-00001-of-00002.gguf", "F16", "1.1 GB", 2, "won't fit"),
        ],
    )
    assert hub.file_table.item(1, 0).text() == "g-F16-00001-of-00002.gguf (2 parts)"
    assert hub.download_button.isEnabled()
    with qtbot.waitSignal(hub.downloadRequested) as download:
        qtbot.mouseClick(hub.download_button, Qt.MouseButton.LeftButton)
    assert download.args == ["g-Q4_K_M.gguf"]

    hub.show_download(DownloadState("running", "g-Q4_K_M.gguf: 10 MB of 253 MB", 0.04))
    assert not hub.download_button.isEnabled()
    assert not hub.pause_button.isHidden() and hub.resume_button.isHidden()
    with qtbot.waitSignal(hub.pauseRequested):
        qtbot.mouseClick(hub.pause_button, Qt.MouseButton.LeftButton)
    hub.show_download(DownloadState("paused", "Paused", 0.04))
    assert hub.pause_button.isHidden() and not hub.resume_button.isHidden()
    assert not hub.cancel_button.isHidden() and hub.download_button.isEnabled()
    with qtbot.waitSignal(hub.cancelRequested):
        qtbot.mouseClick(hub.cancel_button, Qt.MouseButton.LeftButton)


def test_token_is_handed_over_and_cleared_from_the_field(qtbot: QtBot) -> None:
    page = _page(qtbot)
    hub = page.hub
    page.tabs.setCurrentWidget(hub)
    qtbot.mouseClick(hub.token_save, Qt.MouseButton.LeftButton)
    assert "Paste the access token" in hub.status_label.text()
    qtbot.keyClicks(hub.token_edit, "hf_abc")
    with qtbot.waitSignal(hub.tokenSaveRequested) as saved:
        qtbot.keyClick(hub.token_edit, Qt.Key.Key_Return)
    assert saved.args == ["hf_abc"] and hub.token_edit.text() == ""
    hub.ask_for_token("gated/model is gated: add an access token.")
    assert page.focusWidget() is hub.token_edit
    assert hub.status_label.text() == "gated/model is gated: add an access token."


def test_loaded_panel_shows_the_truth_and_the_gpu_note(qtbot: QtBot) -> None:
    page = _page(qtbot)
    panel = page.loaded_panel
    assert panel.gpu_note.isHidden()
    panel.show_loaded(
        LoadedView(
            "Tiny",
            "/m/tiny.gguf",
            "CPU (no GPU offload)",
            "requested all, offloaded 0 of 3",
            "6.0 MiB RAM",
            "context 4,096 tokens",
            gpu_note="This llama.cpp build has no GPU support.",
        )
    )
    assert panel.layers_label.text() == "requested all, offloaded 0 of 3"
    assert not panel.gpu_note.isHidden()
    panel.show_loading("Loading other.gguf…")
    assert panel.name_label.text() == "Loading other.gguf…" and panel.gpu_note.isHidden()


def test_hub_fit_column_shows_the_whole_verdict_and_details_follow_the_selection(
    qtbot: QtBot,
) -> None:
    page = _page(qtbot)
    hub = page.hub
    page.tabs.setCurrentWidget(hub)
    long_name = "Qwen2.5-7B-Instruct-abliterated-v2-Q4_K_M-imatrix-00001-of-00002.gguf"
    verdict = "partly on GPU (21 of 29 layers): 7.2 GiB VRAM + 1.9 GiB RAM"
    details = f"{long_name} at 4,096 tokens of context: partly on GPU (21 of 29 layers): …"
    rows = [
        RemoteFileRow(long_name, "Q4_K_M", "4.7 GB", 2, verdict, fit_details=details),
        RemoteFileRow("small-Q2_K.gguf", "Q2_K", "3.0 GB", 1, "CPU only: ~3.3 GiB"),
    ]
    with qtbot.waitSignal(hub.fileSelected) as selected:
        hub.show_files("a/qwen-GGUF", rows)
    assert selected.args == [long_name]
    table = hub.file_table
    qtbot.waitUntil(lambda: table.horizontalHeader().sectionSize(3) > 0)
    # The verdict column is as wide as its longest text: nothing of it is cut off...
    assert table.horizontalHeader().sectionSize(3) >= table.sizeHintForColumn(3)
    assert table.horizontalHeader().sectionSize(3) < table.viewport().width()
    # ...the long file name gives way instead, with its full name on hover.
    assert table.item(0, 0).toolTip() == long_name
    assert table.item(0, 3).toolTip() == details and table.item(1, 3).toolTip() == rows[1].fit
    assert hub.fit_details.text() == details and not hub.fit_details.isHidden()
    with qtbot.waitSignal(hub.fileSelected) as selected:
        rect = table.visualRect(table.model().index(1, 1))
        qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert selected.args == ["small-Q2_K.gguf"] and hub.fit_details.isHidden()
    # New numbers for the same files keep the user's selection.
    with qtbot.assertNotEmitted(hub.fileSelected):
        hub.show_files("a/qwen-GGUF", rows)
    assert hub.selected_file() == "small-Q2_K.gguf"


def test_delete_file_is_offered_for_hearths_own_files_and_asks_first(qtbot: QtBot) -> None:
    page = _page(qtbot)
    rows = [*ROWS, InstalledRow("/m/hf/q.gguf", "Q", size="4.7 GB", source="models folder",
                                deletable=True)]  # fmt: skip
    page.show_installed(rows)
    _click_row(qtbot, page, 1)  # an import: only forgotten, never deleted
    assert page.remove_button.isEnabled() and not page.delete_button.isEnabled()
    _click_row(qtbot, page, 3)
    assert page.delete_button.isEnabled() and not page.remove_button.isEnabled()
    with qtbot.waitSignal(page.deleteRequested) as asked:
        qtbot.mouseClick(page.delete_button, Qt.MouseButton.LeftButton)
    assert asked.args == ["/m/hf/q.gguf"]

    box = page.confirm_delete("/m/hf/q.gguf", "q.gguf (4.7 GB)", "/m/hf")
    assert box.text() == "Delete q.gguf (4.7 GB)?" and "/m/hf" in box.informativeText()
    assert box.defaultButton().text().replace("&", "") == "Cancel"
    (delete,) = [b for b in box.buttons() if b.text() == "Delete"]
    with qtbot.waitSignal(page.deleteConfirmed) as confirmed:
        qtbot.mouseClick(delete, Qt.MouseButton.LeftButton)
    assert confirmed.args == ["/m/hf/q.gguf"] and page.delete_dialog is None


def test_an_unusable_model_stays_greyed_in_the_new_theme(qtbot: QtBot, themes: Themes) -> None:
    """Issue 15: the grey of an unusable model's row was the palette's of when the table was
    filled; after a switch to dark it was the light theme's grey."""
    themes.choose("light")
    page = _page(qtbot)
    page.show_installed(ROWS)
    page.tabs.setCurrentIndex(0)
    for theme in ("dark", "light"):
        themes.choose(theme, widget=page.table)
        palette = page.table.palette()
        muted = palette.color(QPalette.ColorRole.PlaceholderText)
        assert item_text_colour(page.table, 2, 0) == muted  # "broken"
        assert item_text_colour(page.table, 1, 0) == palette.color(QPalette.ColorRole.Text)
        # On screen: the alternate rows' base under it (no row is selected).
        base = palette.color(QPalette.ColorRole.Base)
        assert shows(cell_colours(page.table, 2, 0), on(muted, base))
        shoot(page, f"models-{theme}")
