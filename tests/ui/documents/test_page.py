"""The Documents page alone: what it shows for given rows, and what the user's clicks, drops
and choices ask of the app."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from PySide6.QtCore import QMimeData, Qt
from PySide6.QtGui import QColor, QContextMenuEvent, QDragEnterEvent, QPalette
from PySide6.QtWidgets import QApplication, QFileDialog
from pytestqt.qtbot import QtBot

from tests.support.qt_user import answer_message_box, choose_menu_item, click_link, file_drag
from ui.documents import page as documents_page
from ui.documents.page import REMOVE_DELETE, REMOVE_KEEP, DocumentsPage
from ui.documents.rows import DocumentRow, cite_link
from ui.documents.summary_text import format_seconds_left, progress_text
from ui.documents.table_cells import COLUMNS


@pytest.fixture
def page(qtbot: QtBot) -> DocumentsPage:
    widget = DocumentsPage()
    qtbot.addWidget(widget)
    widget.set_languages([], "auto")  # the app offers its languages at once
    widget.resize(1100, 750)
    widget.show()
    return widget


ROWS = [
    DocumentRow("/docs/report.pdf", "Report", "pdf", pages=12, words=4321, counting=True),
    DocumentRow(
        "/docs/notes.md",
        "Notes",
        "markdown",
        words=250,
        tokens=1234,
        state="summarizing",
        percent=40,
        summary_busy=True,
    ),
    DocumentRow(
        "/docs/empty.txt",
        "empty.txt",
        "text",
        state="failed",
        reason="empty.txt is empty.",
        detail="empty.txt is empty.",
    ),
]


def texts(page: DocumentsPage, row: int) -> list[str]:
    return [page.table.item(row, column).text() for column in range(len(COLUMNS))]


def click_row(qtbot: QtBot, page: DocumentsPage, row: int, add: bool = False) -> None:
    rect = page.table.visualRect(page.table.model().index(row, 0))
    modifier = Qt.KeyboardModifier.ControlModifier if add else Qt.KeyboardModifier.NoModifier
    qtbot.mouseClick(page.table.viewport(), Qt.MouseButton.LeftButton, modifier, rect.center())


def press_delete(qtbot: QtBot, page: DocumentsPage) -> None:
    """Delete on the focused list of the active window (a closed dialog took both away)."""
    page.window().activateWindow()
    qtbot.waitUntil(page.window().isActiveWindow)
    page.table.setFocus()
    qtbot.keyClick(page.table, Qt.Key.Key_Delete)


def test_rows_show_numbers_and_an_ellipsis_while_tokens_are_counted(page: DocumentsPage) -> None:
    page.set_documents(ROWS)
    assert texts(page, 0) == ["Report", "PDF", "12", "4,321", "…", "Ready"]
    assert texts(page, 1) == ["Notes", "Markdown", "", "250", "1,234", "Summarizing 40%"]
    assert texts(page, 2) == ["empty.txt", "Text", "", "", "", "Failed: empty.txt is empty."]
    assert page.table.item(0, 0).toolTip() == "/docs/report.pdf"
    assert page.table.item(2, len(COLUMNS) - 1).toolTip() == "empty.txt is empty."

    page.set_documents([dataclasses.replace(ROWS[1], tokens=2_000_000, tokens_estimated=True)])
    assert texts(page, 0)[4] == "≈2,000,000"
    assert page.table.item(0, 4).toolTip().startswith("Estimated from samples")


def test_selection_survives_a_refresh_and_summarize_asks_for_each_selected(
    qtbot: QtBot, page: DocumentsPage
) -> None:
    page.set_documents(ROWS)
    assert not page.summarize_button.isEnabled()
    selected: list[str] = []
    page.documentSelected.connect(selected.append)
    click_row(qtbot, page, 0)
    assert selected == ["/docs/report.pdf"]
    click_row(qtbot, page, 1, add=True)
    assert page.summarize_button.isEnabled()

    page.set_documents([ROWS[0], dataclasses.replace(ROWS[1], state="done", summary_busy=False)])
    assert page.selected_paths() == ["/docs/report.pdf", "/docs/notes.md"]

    requested: list[tuple[str, object]] = []
    page.summarizeRequested.connect(lambda path, options: requested.append((path, options)))
    qtbot.mouseClick(page.summarize_button, Qt.MouseButton.LeftButton)
    assert requested == [
        ("/docs/report.pdf", ("medium", "bullets", "auto")),
        ("/docs/notes.md", ("medium", "bullets", "auto")),
    ]


def test_options_offer_a_word_target_styles_and_languages(
    qtbot: QtBot, page: DocumentsPage
) -> None:
    page.set_languages([("de", "Deutsch (German)"), ("en", "English")], "auto")
    assert page.language_combo.currentText() == "Same as document"
    assert not page.words_spin.isEnabled()
    changes: list[None] = []
    page.optionsChanged.connect(lambda: changes.append(None))

    page.length_combo.setFocus()
    qtbot.keyClick(page.length_combo, Qt.Key.Key_End)  # "Word target"
    assert page.words_spin.isEnabled()
    page.words_spin.lineEdit().selectAll()
    qtbot.keyClicks(page.words_spin.lineEdit(), "120")
    page.style_combo.setFocus()
    qtbot.keyClick(page.style_combo, Qt.Key.Key_End)
    page.language_combo.setFocus()
    qtbot.keyClick(page.language_combo, Qt.Key.Key_Down)
    assert page.options() == (120, "key_points", "de")
    assert changes  # the app shows the stored summary for the new options

    # Re-offering languages keeps the choice.
    page.set_languages([("en", "English"), ("de", "Deutsch (German)")], "auto")
    assert page.options()[2] == "de"


def test_dropping_files_asks_to_open_them(
    qtbot: QtBot, page: DocumentsPage, tmp_path: Path
) -> None:
    a, b = tmp_path / "a.pdf", tmp_path / "b.md"
    enter, drop = file_drag([a, b], page.rect().center())
    page.dragEnterEvent(enter)
    assert enter.isAccepted()
    with qtbot.waitSignal(page.openRequested) as opened:
        page.dropEvent(drop)
    assert opened.args == [[str(a), str(b)]]

    # Text without file URLs is not a document.
    text = QMimeData()
    text.setText("just words")
    refused = QDragEnterEvent(
        page.rect().center(),
        Qt.DropAction.CopyAction,
        text,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    page.dragEnterEvent(refused)
    assert not refused.isAccepted()


def test_open_dialog_offers_document_types(
    qtbot: QtBot, page: DocumentsPage, monkeypatch: pytest.MonkeyPatch
) -> None:
    page.set_extensions([".pdf", ".md"])
    seen: list[str] = []

    def fake_dialog(*args: object, **kwargs: object) -> tuple[list[str], str]:
        seen.append(str(args[3]))
        return ["/docs/x.pdf"], ""

    monkeypatch.setattr(QFileDialog, "getOpenFileNames", fake_dialog)
    with qtbot.waitSignal(page.openRequested) as opened:
        qtbot.mouseClick(page.open_button, Qt.MouseButton.LeftButton)
    assert opened.args == [["/docs/x.pdf"]]
    assert seen[0].startswith("Documents (*.pdf *.md)")


def test_summary_streams_then_renders_citation_links(qtbot: QtBot, page: DocumentsPage) -> None:
    page.set_summary_title("Report")
    page.begin_summary()
    page.append_summary("- First ")
    page.append_summary("point [c0]")
    assert page.summary_view.toPlainText() == "- First point [c0]"
    assert not page.export_button.isEnabled()

    markdown = f"- First point {cite_link('p. 3', 0)} {cite_link('p. 4', 1)}\n- <b>bold</b>"
    page.finish_summary(markdown)
    shown = page.summary_view.toPlainText()
    assert "First point [p. 3] [p. 4]" in shown
    assert "<b>bold</b>" in shown  # model output is text, never HTML
    assert page.export_button.isEnabled() and page.discuss_button.isEnabled()

    with qtbot.waitSignal(page.citationClicked) as clicked:
        click_link(qtbot, page.summary_view, "p. 4")
    assert clicked.args == [1]
    page.show_passage("Text of page four.", "p. 4")
    assert page.passage_title.text() == "Source passage · p. 4"


def test_export_asks_for_a_file_named_after_the_document(
    qtbot: QtBot, page: DocumentsPage, monkeypatch: pytest.MonkeyPatch
) -> None:
    page.set_summary_title("Annual report: 2024")
    page.finish_summary("- A point.")
    proposed: list[str] = []

    def fake_dialog(*args: object, **kwargs: object) -> tuple[str, str]:
        proposed.append(str(args[2]))
        return "/tmp/out.md", ""

    monkeypatch.setattr(QFileDialog, "getSaveFileName", fake_dialog)
    with qtbot.waitSignal(page.exportRequested) as exported:
        qtbot.mouseClick(page.export_button, Qt.MouseButton.LeftButton)
    assert exported.args == ["/tmp/out.md"]
    assert proposed == ["Annual report 2024 - summary.md"]


def test_progress_shows_chunks_tokens_and_time_left(page: DocumentsPage) -> None:
    page.set_busy(True)
    assert page.progress.isVisible() and page.cancel_button.isEnabled()
    text = progress_text(3, 12, 4210, 380, 40.0, "Report (1 of 2)")
    assert (
        text == "Report (1 of 2) · 3 of 12 chunks done · 4,210 tokens in, 380 out · about 40 s left"
    )
    page.show_progress(0.25, text)
    assert page.progress.value() == page.progress.maximum() // 4
    assert page.progress.text().startswith("25% · Report (1 of 2)")
    page.set_busy(False)
    assert not page.cancel_button.isEnabled()
    assert format_seconds_left(None) == "" and format_seconds_left(600) == "about 10 min left"


def test_the_bar_shows_how_the_jobs_ended_then_goes(
    qtbot: QtBot, page: DocumentsPage, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(documents_page, "PROGRESS_LINGER_MS", 50)
    page.set_busy(True)
    page.show_progress(0.5, "Report · chunk 6 of 12")
    page.set_busy(False)
    page.finish_progress(1.0, "Summary finished")
    assert page.progress.isVisible() and page.progress.text() == "100% · Summary finished"
    qtbot.waitUntil(page.progress.isHidden, timeout=5_000)

    # A job that starts while the last state still shows keeps its bar.
    page.finish_progress(1.0, "Summary finished")
    page.set_busy(True)
    page.show_progress(0.1, "Next · chunk 1 of 10")
    qtbot.wait(200)  # time passing: well past the linger, which must not hide this bar
    assert page.progress.isVisible() and page.progress.text().startswith("10% · Next")


def test_delete_key_and_context_menu_ask_before_removing(qtbot: QtBot, page: DocumentsPage) -> None:
    page.set_documents(ROWS)
    assert not page.remove_action.isEnabled()
    removed: list[tuple[list[str], bool]] = []
    page.removeRequested.connect(lambda paths, delete: removed.append((paths, delete)))

    # Delete on the list, then Cancel: nothing happens.
    click_row(qtbot, page, 0)
    answer_message_box(qtbot, "Cancel", seen := [])
    press_delete(qtbot, page)
    assert removed == [] and seen

    # Delete again, keeping the summaries.
    seen.clear()
    answer_message_box(qtbot, REMOVE_KEEP, seen)
    press_delete(qtbot, page)
    assert removed == [(["/docs/report.pdf"], False)]
    assert seen[0].startswith("Remove “Report” from the library?")
    assert "not touched" in seen[0] and "cancelled first" not in seen[0]

    # The context menu on two rows, one of them being summarized; delete the summaries too.
    click_row(qtbot, page, 1, add=True)
    seen.clear()
    choose_menu_item(
        qtbot, "Remove from library…", then=lambda: answer_message_box(qtbot, REMOVE_DELETE, seen)
    )
    point = page.table.visualRect(page.table.model().index(1, 0)).center()
    viewport = page.table.viewport()
    # What a right click (or the menu key) delivers; QTest's right click does not.
    QApplication.sendEvent(
        viewport,
        QContextMenuEvent(QContextMenuEvent.Reason.Mouse, point, viewport.mapToGlobal(point)),
    )
    qtbot.waitUntil(lambda: len(removed) == 2, timeout=5_000)
    assert removed[1] == (["/docs/report.pdf", "/docs/notes.md"], True)
    assert seen[0].startswith("Remove 2 documents") and "cancelled first" in seen[0]


def test_a_summary_paused_for_a_chat_reply_says_so_on_its_bar(page: DocumentsPage) -> None:
    page.show_paused(True)  # no job running: nothing to say
    assert page.progress.isHidden()
    page.set_busy(True)
    page.show_progress(0.25, "Report · chunk 3 of 12")
    page.show_paused(True)
    assert page.progress.text() == "25% · Report · chunk 3 of 12 · paused: a chat reply goes first"
    page.show_paused(False)
    assert page.progress.text() == "25% · Report · chunk 3 of 12"
    page.show_paused(True)
    page.show_progress(0.5, "Report · chunk 6 of 12")  # the next report replaces the note
    assert page.progress.text() == "50% · Report · chunk 6 of 12"


def test_progress_text_stands_beside_the_bar_not_over_its_fill(page: DocumentsPage) -> None:
    page.set_busy(True)
    assert page.progress_label.isVisible() and page.progress_label.text() == "starting…"
    page.show_progress(0.3, "Report · 2 of 7 chunks done · about 3 min left")
    assert not page.progress.isTextVisible()  # the fill never covers the text
    assert page.progress_label.text() == "30% · Report · 2 of 7 chunks done · about 3 min left"
    bar, label = page.progress.geometry(), page.progress_label.geometry()
    assert label.left() > bar.right() and label.width() > bar.width()
    page.show_paused(True)
    assert page.progress_label.text().endswith("paused: a chat reply goes first")
    page.progress.hide()
    assert page.progress_label.isHidden()


def test_chunk_summaries_show_as_they_finish_then_the_final_pass(page: DocumentsPage) -> None:
    page.begin_summary()
    page.append_chunk_summary("Part 1 of 3 · p. 1–4", "The first pages.")
    page.append_chunk_summary("Part 2 of 3 · p. 5–8", "")
    shown = page.summary_view.toPlainText()
    assert "Part 1 of 3 · p. 1–4\nThe first pages." in shown
    assert "Part 2 of 3 · p. 5–8\n(nothing usable" in shown
    page.append_summary("- A ")
    page.append_summary("point.")
    assert page.summary_view.toPlainText().endswith("Final summary\n- A point.")
    page.finish_summary("- A point.")
    assert page.summary_view.toPlainText().strip() == "A point."

    page.begin_summary()  # a one-chunk document: the final pass alone, no heading
    page.append_summary("- Only point.")
    assert page.summary_view.toPlainText() == "- Only point."


def test_until_the_speed_is_measured_the_bar_says_so_instead_of_a_time() -> None:
    assert progress_text(0, 7, 0, 0, None, "Report") == (
        "Report · 0 of 7 chunks done · measuring the speed…"
    )
    assert (
        progress_text(0, 7, 0, 0, 95.0, "Report")
        == "Report · 0 of 7 chunks done · about 2 min left"
    )


def test_a_finished_summary_recolours_its_code_when_the_palette_turns_dark(
    page: DocumentsPage,
) -> None:
    page.finish_summary("Steps:\n\n```python\ndef main():\n    return 0\n```")
    assert "#008000" in page.summary_view.toHtml().lower()  # Pygments' light keyword colour
    dark = QPalette(page.palette())
    for role in (QPalette.ColorRole.Base, QPalette.ColorRole.Window):
        dark.setColor(role, QColor("#1f1f1f"))
    page.setPalette(dark)  # as a theme change does, through the application's palette
    html = page.summary_view.toHtml().lower()
    assert "#66d9ef" in html and "#008000" not in html  # monokai's keyword colour
    assert "def main():" in page.summary_view.toPlainText()
