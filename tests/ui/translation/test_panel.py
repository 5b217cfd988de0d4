"""The Translate page's widgets on their own (no engine): keys, swap, clear, copy, glossary
editor, progress, flags and drops."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from PySide6.QtCore import QEvent, QMimeData, QPoint, QPointF, Qt
from PySide6.QtGui import QDragEnterEvent, QDropEvent, QGuiApplication, QHelpEvent, QTextCursor
from PySide6.QtWidgets import QApplication, QPlainTextEdit, QToolTip, QWidget
from pytestqt.qtbot import QtBot

from tests.support.qt_user import file_drag
from ui.translation.history import HistoryEntry
from ui.translation.language_pickers import AUTO_DETECT
from ui.translation.marks import TermMark
from ui.translation.panel import TranslationPanel

# As the controller gives them: in reading order, both names where they differ.
LANGUAGES = [
    ("en", "English", "English"),
    ("fr", "French — français", "French"),
    ("de", "German — Deutsch", "German"),
    ("ja", "Japanese — 日本語", "Japanese"),
]


@pytest.fixture
def panel(qtbot: QtBot) -> TranslationPanel:
    widget = TranslationPanel()
    qtbot.addWidget(widget)
    widget.set_languages(LANGUAGES)
    widget.resize(1100, 750)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def test_pickers_show_both_names_in_the_order_given(panel: TranslationPanel) -> None:
    sources = [panel.source_language.itemText(i) for i in range(panel.source_language.count())]
    targets = [panel.target_language.itemText(i) for i in range(panel.target_language.count())]
    labels = ["English", "French — français", "German — Deutsch", "Japanese — 日本語"]
    assert sources == [AUTO_DETECT, *labels]
    assert targets == labels
    assert panel.source_code() is None
    panel.set_target_code("ja")
    assert panel.target_code() == "ja" and panel.language_label("ja") == "Japanese"


@pytest.mark.parametrize("typed", ["Deutsch", "german", "Ger", "de", "deut", "GERMAN"])
def test_typing_a_name_selects_the_language(
    qtbot: QtBot, panel: TranslationPanel, typed: str
) -> None:
    combo = panel.target_language
    panel.set_target_code("en")
    combo.setFocus()
    combo.lineEdit().selectAll()
    with qtbot.waitSignal(panel.languagesChanged, timeout=1000):
        qtbot.keyClicks(combo.lineEdit(), typed)
        qtbot.keyClick(combo.lineEdit(), Qt.Key.Key_Return)
    assert panel.target_code() == "de"
    assert combo.currentText() == "German — Deutsch"  # the label again, not what was typed


@pytest.mark.parametrize("typed", ["Klingon", "a", "n"])  # no language, or several
def test_typing_what_names_no_single_language_keeps_the_choice(
    qtbot: QtBot, panel: TranslationPanel, typed: str
) -> None:
    combo = panel.source_language
    panel.set_source_code("fr")
    combo.setFocus()
    combo.lineEdit().selectAll()
    qtbot.keyClicks(combo.lineEdit(), typed)
    qtbot.keyClick(combo.lineEdit(), Qt.Key.Key_Return)
    assert panel.source_code() == "fr" and combo.currentText() == "French — français"
    # Leaving the picker ends the editing too.
    qtbot.keyClicks(combo.lineEdit(), typed)
    qtbot.keyClick(combo.lineEdit(), Qt.Key.Key_Escape)  # closes the suggestions, if any
    panel.source_edit.setFocus()
    assert panel.source_code() == "fr" and combo.currentText() == "French — français"


def test_detection_has_one_state_shown_in_one_place(panel: TranslationPanel) -> None:
    panel.show_detection("en", "")
    assert panel.detection_text() == "Detected: English" and panel.detected_code() == "en"
    # A new detection: the old answer goes at once, it is not shown beside "Detecting…".
    panel.set_busy(True)
    panel.show_busy("Preparing…")
    panel.begin_detection()
    assert panel.detection_text() == "Detecting the language…"
    assert panel.detected_code() is None
    assert "etect" not in panel.status_text()  # the status line speaks of the job only
    panel.show_detection("de", "")
    assert panel.detection_text() == "Detected: German" and panel.detected_code() == "de"
    # Cancelled before detection ended: no "Detecting…" is left behind.
    panel.begin_detection()
    panel.set_busy(False)
    assert panel.detection_text() == "" and panel.detected_code() is None


def test_an_edit_of_the_text_forgets_what_was_detected_in_it(
    qtbot: QtBot, panel: TranslationPanel
) -> None:
    qtbot.keyClicks(panel.source_edit, "Good morning")
    panel.show_detection("en", "")
    qtbot.keyClicks(panel.source_edit, ", Sir")
    assert panel.detection_text() == "" and panel.detected_code() is None


def test_ctrl_enter_asks_for_a_translation_unless_one_is_running(
    qtbot: QtBot, panel: TranslationPanel
) -> None:
    qtbot.keyClicks(panel.source_edit, "Hello")
    with qtbot.waitSignal(panel.translateRequested, timeout=1000):
        qtbot.keyClick(panel.source_edit, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    panel.set_busy(True)
    requested: list[bool] = []
    panel.translateRequested.connect(lambda: requested.append(True))
    qtbot.keyClick(panel.source_edit, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert requested == []
    assert not panel.translate_button.isEnabled() and panel.cancel_button.isEnabled()
    with qtbot.waitSignal(panel.cancelRequested, timeout=1000):
        qtbot.keyClick(panel.source_edit, Qt.Key.Key_Escape)
    assert panel.source_text() == "Hello"  # Ctrl+Enter added no line break


def test_swap_exchanges_languages_and_texts(qtbot: QtBot, panel: TranslationPanel) -> None:
    panel.set_source_code("en")
    panel.set_target_code("de")
    qtbot.keyClicks(panel.source_edit, "Good night")
    panel.set_translation("Gute Nacht")
    with qtbot.waitSignal(panel.languagesChanged, timeout=1000):
        qtbot.mouseClick(panel.swap_button, Qt.MouseButton.LeftButton)
    assert (panel.source_code(), panel.target_code()) == ("de", "en")
    assert (panel.source_text(), panel.translation_text()) == ("Gute Nacht", "Good night")


def test_swap_without_a_known_source_language_asks_to_pick_one(
    qtbot: QtBot, panel: TranslationPanel
) -> None:
    qtbot.keyClicks(panel.source_edit, "Bonjour")
    qtbot.mouseClick(panel.swap_button, Qt.MouseButton.LeftButton)
    assert panel.message_text() == "Pick the source language first, then swap."
    assert panel.source_text() == "Bonjour"
    # Once detection found the language, swapping uses it.
    panel.show_detection("fr", "")
    panel.set_target_code("en")
    panel.set_translation("Hello")
    qtbot.mouseClick(panel.swap_button, Qt.MouseButton.LeftButton)
    assert (panel.source_code(), panel.target_code()) == ("en", "fr")
    assert panel.source_text() == "Hello"


def test_clear_empties_both_sides_and_undo_brings_the_text_back(
    qtbot: QtBot, panel: TranslationPanel
) -> None:
    qtbot.keyClicks(panel.source_edit, "Keep me")
    panel.set_translation("Garde-moi")
    panel.show_flags(['"cat" should be translated as "chat"'])
    qtbot.mouseClick(panel.clear_button, Qt.MouseButton.LeftButton)
    assert panel.source_text() == panel.translation_text() == ""
    assert panel.flags_text() == ""
    qtbot.keyClick(panel.source_edit, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert panel.source_text() == "Keep me"


def test_copy_puts_the_translation_on_the_clipboard(qtbot: QtBot, panel: TranslationPanel) -> None:
    QGuiApplication.clipboard().setText("before")
    qtbot.mouseClick(panel.copy_button, Qt.MouseButton.LeftButton)
    assert panel.status_text() == "There is no translation to copy yet."
    assert QGuiApplication.clipboard().text() == "before"
    panel.set_translation("Bonjour le monde")
    qtbot.mouseClick(panel.copy_button, Qt.MouseButton.LeftButton)
    assert QGuiApplication.clipboard().text() == "Bonjour le monde"
    assert panel.status_text() == "Translation copied."


def test_streamed_text_goes_to_the_end_whatever_the_cursor(panel: TranslationPanel) -> None:
    panel.begin_translation()
    panel.append_translation("Bon")
    cursor = panel.translation_edit.textCursor()
    cursor.movePosition(cursor.MoveOperation.Start)
    panel.translation_edit.setTextCursor(cursor)
    panel.append_translation("jour")
    assert panel.translation_text() == "Bonjour"


def test_progress_and_flags_are_shown(panel: TranslationPanel) -> None:
    panel.set_busy(True)
    panel.show_progress(3, 10, 75.0)
    assert panel.progress.isVisible() and panel.progress.value() == 3
    assert panel.status_text() == "Translating: 3 of 10 segments, about 1 min left"
    panel.set_busy(False)
    assert not panel.progress.isVisible()
    panel.glossary.set_entries([("invoice", "Rechnung"), ("tax", "Steuer")], ["Hearth"])
    panel.show_flags(['"invoice" should be translated as "Rechnung"'])
    assert panel.flags_label.isVisible()
    assert '• "invoice" should be translated as "Rechnung"' in panel.flags_text()
    table = panel.glossary.table
    assert table.item(0, 0).toolTip() == "⚠ Not respected by the last translation"
    assert table.item(1, 0).toolTip() == ""


def test_prefill_progress_stays_on_one_line_and_nothing_moves(panel: TranslationPanel) -> None:
    panel.resize(900, 600)  # narrower than the whole line beside the buttons
    panel.set_busy(True)
    panel.show_progress(0, 12, None)
    QApplication.processEvents()
    before = (panel.editors.geometry(), panel.translate_button.geometry(), panel.size())
    for done in ("1,200", "2,400", "6,800"):  # nothing jumps; one line, all of it in its tooltip
        panel.show_progress(3, 12, 75.0)
        panel.show_reading(f"reading the prompt: {done} of 8,000 tokens, about 4 s left")
        QApplication.processEvents()
        after = (panel.editors.geometry(), panel.translate_button.geometry(), panel.size())
        assert after == before and panel.status_label.toolTip() == panel.status_text()
        assert panel.status_label.height() < 2 * panel.status_label.fontMetrics().height()
    # A longer line than there is room for is cut short with "…": it never widens the page.
    assert panel.status_label.minimumSizeHint().width() < panel.status_label.width() // 4
    panel.set_busy(False)  # the bar hides; the line keeps its height
    QApplication.processEvents()
    assert panel.editors.geometry() == before[0]


def test_glossary_editor_collects_terms_and_words_to_keep(
    qtbot: QtBot, panel: TranslationPanel
) -> None:
    editor = panel.glossary
    changes: list[bool] = []
    editor.changed.connect(lambda: changes.append(True))
    qtbot.mouseClick(editor.add_button, Qt.MouseButton.LeftButton)
    # "Add term" opens the new row's first cell for typing.
    cell_editor = QApplication.focusWidget()
    assert cell_editor is not None and cell_editor is not editor.table
    qtbot.keyClicks(cell_editor, "invoice")
    qtbot.keyClick(cell_editor, Qt.Key.Key_Return)
    editor.table.item(0, 1).setText("Rechnung")
    qtbot.mouseClick(editor.add_button, Qt.MouseButton.LeftButton)
    editor.table.item(1, 0).setText("Hearth")  # no translation: keep as is
    for word in ("GitHub", "", "GitHub"):
        qtbot.keyClicks(editor.keep_edit, word)
        qtbot.keyClick(editor.keep_edit, Qt.Key.Key_Return)
    terms, keep = editor.entries()
    assert terms == [("invoice", "Rechnung")]
    assert keep == ["Hearth", "GitHub"]
    assert changes
    editor.table.setCurrentCell(0, 0)
    qtbot.mouseClick(editor.remove_button, Qt.MouseButton.LeftButton)
    assert editor.entries() == ([], ["Hearth", "GitHub"])


def test_history_lists_entries_and_reports_a_click(qtbot: QtBot, panel: TranslationPanel) -> None:
    panel.tools.setCurrentWidget(panel.history)
    when = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
    panel.history.set_entries(
        [HistoryEntry(7, "Good morning", "Bonjour", "English → français", "gemma", when)]
    )
    assert not panel.history.empty_label.isVisible()
    item = panel.history.list.item(0)
    assert "Good morning" in item.text() and "English → français · gemma" in item.text()
    rect = panel.history.list.visualItemRect(item)
    with qtbot.waitSignal(panel.history.entryChosen, timeout=1000) as chosen:
        qtbot.mouseClick(
            panel.history.list.viewport(), Qt.MouseButton.LeftButton, pos=rect.center()
        )
    assert chosen.args == [7]
    panel.history.set_entries([])
    assert panel.history.empty_label.isVisible()


def _drop_on(widget: QWidget, enter: QDragEnterEvent, drop: QDropEvent) -> None:
    """Deliver a drag as Qt does: to the widget under the mouse, then up to its parents
    until one takes it."""
    QApplication.sendEvent(widget, enter)
    if enter.isAccepted():
        QApplication.sendEvent(widget, drop)


def test_a_file_dropped_on_the_source_box_is_claimed_not_pasted(
    qtbot: QtBot, panel: TranslationPanel, tmp_path: Path
) -> None:
    notes = tmp_path / "notes.md"
    enter, drop = file_drag([notes])
    enter.mimeData().setText(str(notes))  # file managers add the path as text too
    with qtbot.waitSignal(panel.filesDropped, timeout=1000) as dropped:
        _drop_on(panel.source_edit.viewport(), enter, drop)
    assert dropped.args == [[str(notes)]]
    assert drop.isAccepted()
    assert panel.source_text() == ""


def test_a_file_dropped_on_the_translation_reaches_the_page(
    qtbot: QtBot, panel: TranslationPanel, tmp_path: Path
) -> None:
    enter, drop = file_drag([tmp_path / "a.srt", tmp_path / "b.txt"])
    with qtbot.waitSignal(panel.filesDropped, timeout=1000) as dropped:
        _drop_on(panel.translation_edit.viewport(), enter, drop)
    assert dropped.args == [[str(tmp_path / "a.srt"), str(tmp_path / "b.txt")]]


def test_dropped_plain_text_goes_into_the_source_box(qtbot: QtBot, panel: TranslationPanel) -> None:
    files: list[list[str]] = []
    panel.filesDropped.connect(files.append)
    mime = QMimeData()
    mime.setText("Dropped words")
    point = panel.source_edit.viewport().rect().center()
    action, button = Qt.DropAction.CopyAction, Qt.MouseButton.LeftButton
    none = Qt.KeyboardModifier.NoModifier
    enter = QDragEnterEvent(point, action, mime, button, none)
    drop = QDropEvent(QPointF(point), action, mime, button, none)
    _drop_on(panel.source_edit.viewport(), enter, drop)
    assert panel.source_text() == "Dropped words"
    assert files == []


def test_a_dropped_file_is_translated_only_after_the_user_confirms(
    qtbot: QtBot, panel: TranslationPanel
) -> None:
    chosen: list[str] = []
    panel.fileChosen.connect(chosen.append)
    panel.ask_to_translate_file("/tmp/notes.md", "Translate notes.md into German?")
    assert panel.file_question() == "Translate notes.md into German?"
    assert chosen == []
    panel.set_target_code("fr")  # the question named a file for the old target: gone
    assert panel.file_question() == ""
    panel.ask_to_translate_file("/tmp/notes.md", "Translate notes.md into French?")
    qtbot.mouseClick(panel.file_bar.action_button, Qt.MouseButton.LeftButton)
    assert chosen == ["/tmp/notes.md"] and panel.file_question() == ""


def _marked(edit: QPlainTextEdit) -> list[str]:
    return [selection.cursor.selectedText() for selection in edit.extraSelections()]


def _tooltip_over(edit: QPlainTextEdit, position: int) -> str:
    cursor = QTextCursor(edit.document())
    cursor.setPosition(position)
    point = edit.cursorRect(cursor).center() + QPoint(2, 0)
    event = QHelpEvent(QEvent.Type.ToolTip, point, edit.viewport().mapToGlobal(point))
    QApplication.sendEvent(edit.viewport(), event)
    return QToolTip.text() if QToolTip.isVisible() else ""


def test_glossary_problems_are_marked_in_both_texts_and_cleared_by_edits(
    qtbot: QtBot, panel: TranslationPanel
) -> None:
    source = "Le 😀 invoice arrive.\n\nHearth paie l'invoice."
    translation = "Die invoice kommt.\n\nHerd zahlt."
    panel.source_edit.setPlainText(source)
    panel.set_translation(translation)
    mark = TermMark(
        '"invoice" should be translated as "Rechnung"',
        "invoice",
        "Rechnung",
        (
            (source.index("invoice"), source.index("invoice") + 7),
            (source.rindex("invoice"), source.rindex("invoice") + 7),
        ),
        ((4, 11),),
        True,
    )
    keep = TermMark(
        '"Hearth" should stay untranslated',
        "Hearth",
        None,
        ((source.index("Hearth"), source.index("Hearth") + 6),),
        ((translation.index("Herd"), len(translation)),),
        False,
    )
    panel.show_flags([mark.message, keep.message, mark.message, "A marker was lost"], [mark, keep])
    # The emoji counts twice in Qt's positions: the marks still fall on the words.
    assert _marked(panel.source_edit) == ["invoice", "invoice", "Hearth"]
    assert _marked(panel.translation_edit) == ["invoice", "Herd zahlt."]
    assert panel.source_text() == source  # marked, not rewritten
    assert panel.flags_list.count() == 3  # listed once each
    selections = panel.source_edit.extraSelections()
    start = selections[0].cursor.selectionStart()
    assert _tooltip_over(panel.source_edit, start) == 'Expected "Rechnung" for "invoice".'
    assert (
        _tooltip_over(panel.translation_edit, 5)
        == '"invoice" was left untranslated: expected "Rechnung".'
    )

    # Clicking the "Hearth" flag selects the term in the source.
    item = panel.flags_list.item(1)
    rect = panel.flags_list.visualItemRect(item)
    qtbot.mouseClick(panel.flags_list.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert panel.source_edit.textCursor().selectedText() == "Hearth"
    assert panel.source_edit.hasFocus()

    qtbot.keyClick(panel.source_edit, Qt.Key.Key_End)
    qtbot.keyClicks(panel.source_edit, " Merci.")
    assert panel.source_edit.extraSelections() == []
    assert panel.translation_edit.extraSelections() == []
    qtbot.mouseClick(panel.flags_list.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert panel.source_edit.textCursor().selectedText() == ""  # nothing stale to jump to
