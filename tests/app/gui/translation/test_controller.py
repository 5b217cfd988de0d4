"""The Translate page wired into the real app: real engine process, real SQLite, real widgets.

The tiny model writes gibberish, so these tests check the flow (what is sent, shown, stored
and written), not the quality of translations.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication, QFileDialog, QMessageBox
from pytestqt.qtbot import QtBot

from app.gui.translation.controller import install_translation
from inference.protocol import ChatMessage
from storage.translations import TranslationRepository
from tests.support.app_parts import MakeApp
from tests.support.engine_helpers import kill_engine
from tests.support.qt_user import file_drag
from tests.support.translate_page import (
    JOB_TIMEOUT_MS,
    pick,
    record,
    translation_ends,
    type_and_translate,
)
from ui.translation.panel import TranslationPanel

THREE_PARAGRAPHS = "The first paragraph.\n\nThe second paragraph.\n\nThe third paragraph."


def test_ctrl_enter_streams_a_translation_and_stores_it(qtbot: QtBot, translate_app: Any) -> None:
    (window, _chat, database), controller = translate_app()
    panel = controller.panel
    assert window.pages.tabText(window.pages.indexOf(panel)) == "Translate"
    pick(panel, "en", "fr")
    engine = record(controller.translator)
    seen_while_running: list[str] = []
    controller.runner.signals.progressed.connect(
        lambda *_: seen_while_running.append(panel.translation_text()) if panel.is_busy() else None
    )
    with translation_ends(qtbot, panel):
        type_and_translate(qtbot, panel, "Good morning, my friends.")
    assert engine.sent == ["Good morning, my friends."]
    assert seen_while_running and seen_while_running[0] != ""  # streamed before the end
    shown = panel.translation_text()
    assert shown.strip() and panel.translation_edit.isReadOnly()
    assert panel.source_text() == "Good morning, my friends."
    assert "1 paragraph translated" in panel.status_text()
    [stored] = TranslationRepository(database).search()
    assert (stored.source_text, stored.translation) == ("Good morning, my friends.", shown)
    assert (stored.source_lang, stored.target_lang, stored.model) == ("en", "fr", "tiny-test")
    assert panel.history.list.count() == 1


def test_editing_one_paragraph_sends_only_that_paragraph_again(
    qtbot: QtBot, translate_app: Any
) -> None:
    _parts, controller = translate_app()
    panel = controller.panel
    pick(panel, "en", "de")
    engine = record(controller.translator)
    panel.source_edit.setPlainText(THREE_PARAGRAPHS)
    with translation_ends(qtbot, panel):
        qtbot.mouseClick(panel.translate_button, Qt.MouseButton.LeftButton)
    assert len(engine.sent) == 3
    first = panel.translation_text()

    engine.sent.clear()
    cursor = panel.source_edit.textCursor()
    cursor.movePosition(cursor.MoveOperation.End)
    panel.source_edit.setTextCursor(cursor)
    qtbot.keyClicks(panel.source_edit, " Edited")
    with translation_ends(qtbot, panel):
        qtbot.keyClick(panel.source_edit, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert engine.sent == ["The third paragraph. Edited"]
    assert "2 of 3 paragraphs were unchanged and reused" in panel.status_text()
    second = panel.translation_text()
    # The unchanged paragraphs read exactly as before.
    assert second.split("\n\n")[:2] == first.split("\n\n")[:2]


def test_cancel_stops_the_job_and_keeps_the_partial_translation(
    qtbot: QtBot, translate_app: Any
) -> None:
    (_window, _chat, database), controller = translate_app()
    panel = controller.panel
    pick(panel, "en", "fr")
    engine = record(controller.translator)
    engine.hold_at = 2
    panel.source_edit.setPlainText(THREE_PARAGRAPHS)
    qtbot.mouseClick(panel.translate_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(engine.reached.is_set, timeout=JOB_TIMEOUT_MS)
    assert panel.is_busy() and panel.cancel_button.isEnabled()
    assert not panel.translate_button.isEnabled()
    with translation_ends(qtbot, panel, timeout=5_000):
        qtbot.mouseClick(panel.cancel_button, Qt.MouseButton.LeftButton)
    assert len(engine.sent) == 2  # the third paragraph was never sent
    assert panel.status_text().startswith("Cancelled.")
    assert panel.translation_text().startswith(panel.translation_text().split("\n\n")[0])
    assert panel.source_text() == THREE_PARAGRAPHS
    assert not panel.is_busy() and panel.translate_button.isEnabled()
    assert TranslationRepository(database).search() == []
    # The engine is usable again right away.
    engine.hold_at = None
    engine.sent.clear()
    with translation_ends(qtbot, panel):
        qtbot.mouseClick(panel.translate_button, Qt.MouseButton.LeftButton)
    assert panel.status_text().startswith("Done.")


def test_engine_crash_keeps_source_and_partial_translation(
    qtbot: QtBot, translate_app: Any
) -> None:
    (_window, chat, _database), controller = translate_app()
    panel = controller.panel
    pick(panel, "en", "fr")
    # Long replies, so the third request is surely still running when the engine dies.
    engine = record(controller.translator, max_tokens=700)
    engine.hold_at = 3
    engine.on_first_delta = lambda: kill_engine(chat.client)
    panel.source_edit.setPlainText(THREE_PARAGRAPHS)
    with translation_ends(qtbot, panel):
        qtbot.mouseClick(panel.translate_button, Qt.MouseButton.LeftButton)
    assert len(engine.sent) == 3
    assert "engine stopped in the middle of the translation" in panel.message_text()
    assert "partial translation are kept" in panel.message_text()
    assert panel.source_text() == THREE_PARAGRAPHS
    assert panel.translation_text() != ""
    # Translating again brings the model back and goes through.
    engine.hold_at, engine.on_first_delta, engine.max_tokens = None, None, 6
    engine.sent.clear()
    with translation_ends(qtbot, panel):
        qtbot.mouseClick(panel.translate_button, Qt.MouseButton.LeftButton)
    assert panel.status_text().startswith("Done.")
    assert len(engine.sent) == 1  # paragraphs 1 and 2 came from the cache


def test_text_far_larger_than_the_context_is_translated_in_segments_with_progress(
    qtbot: QtBot, translate_app: Any
) -> None:
    _parts, controller = translate_app(n_ctx=512)
    panel = controller.panel
    pick(panel, "en", "de")
    engine = record(controller.translator)
    sentences = " ".join(
        f"Sentence number {n} tells a little more of the story." for n in range(120)
    )
    source = f"# A long story\n\n{sentences}\n\nThe end."
    assert len(source.split()) > 2 * 512  # words alone: twice the whole context
    progress: list[tuple[int, int]] = []
    controller.runner.signals.progressed.connect(
        lambda done, total, _left: progress.append((done, total))
    )
    panel.source_edit.setPlainText(source)
    # Sixty-odd requests: a generous wait for a busy machine (not a speed check).
    with translation_ends(qtbot, panel, timeout=3 * JOB_TIMEOUT_MS):
        qtbot.mouseClick(panel.translate_button, Qt.MouseButton.LeftButton)
    assert panel.status_text().startswith("Done."), panel.message_text()
    budget = controller.translator.token_budget()
    assert len(engine.sent) > 20 and max(engine.sent_tokens) <= budget
    # Sent in reading order, every sentence exactly once.
    assert " ".join(engine.sent[1:-1]) == sentences
    assert engine.sent[0] == "A long story" and engine.sent[-1] == "The end."
    done = [d for d, _total in progress]
    assert done == sorted(done) and progress[-1][0] == progress[-1][1] == len(engine.sent)
    shown = panel.translation_text()
    assert shown.startswith("# ") and shown.count("\n\n") == 2


def test_empty_input_and_same_languages_are_refused_in_plain_words(
    qtbot: QtBot, translate_app: Any
) -> None:
    _parts, controller = translate_app()
    panel = controller.panel
    pick(panel, "en", "fr")
    engine = record(controller.translator)
    type_and_translate(qtbot, panel, "   ")
    assert (
        panel.message_text()
        == "There is no text to translate. Type or paste some text on the left."
    )
    pick(panel, "fr", "fr")
    type_and_translate(qtbot, panel, "Bonjour tout le monde")
    assert "same" in panel.message_text()
    assert engine.sent == [] and not panel.is_busy()


def test_detect_shows_the_language_or_asks_the_user_to_pick(
    qtbot: QtBot, translate_app: Any
) -> None:
    _parts, controller = translate_app()
    panel = controller.panel
    pick(panel, None, "fr")
    engine = record(controller.translator)
    type_and_translate(qtbot, panel, "ok")  # too short to tell
    qtbot.waitUntil(lambda: not controller.busy(), timeout=JOB_TIMEOUT_MS)
    assert "too short to tell its language" in panel.message_text()
    assert "pick the source language" in panel.detected_label.text()
    assert engine.sent == [] and panel.translation_text() == ""

    panel.source_edit.clear()
    qtbot.keyClicks(
        panel.source_edit, "The weather was lovely, so we walked along the river until sunset."
    )
    with translation_ends(qtbot, panel):
        qtbot.mouseClick(panel.detect_button, Qt.MouseButton.LeftButton)
    assert panel.detected_label.text() == "Detected: English"
    assert panel.message_text() == ""
    assert engine.sent == []


def test_language_lists_are_in_the_order_of_the_names_the_user_reads(
    qtbot: QtBot, translate_app: Any
) -> None:
    _parts, controller = translate_app()
    combo = controller.panel.target_language
    labels = [combo.itemText(i) for i in range(combo.count())]
    assert labels == sorted(labels, key=str.casefold)
    assert labels.index("French — français") + 1 == labels.index("German — Deutsch")
    assert labels.index("German — Deutsch") + 1 == labels.index("Greek — Ελληνικά")
    assert "English" in labels  # one name where both are the same
    sources = controller.panel.source_language
    assert [sources.itemText(i) for i in range(sources.count())][1:] == labels


def test_the_detected_language_and_the_status_never_disagree(
    qtbot: QtBot, translate_app: Any
) -> None:
    _parts, controller = translate_app()
    panel = controller.panel
    pick(panel, None, "fr")
    engine = record(controller.translator)
    with translation_ends(qtbot, panel):
        type_and_translate(qtbot, panel, "The weather was lovely, so we walked along the river.")
    assert panel.detected_label.text() == "Detected: English"

    # A German text: once its language is known the request goes out; the engine holds it.
    engine.hold_at = len(engine.sent) + 1
    panel.source_edit.clear()
    assert panel.detected_label.text() == ""  # the answer was about the text just removed
    panel.source_edit.setPlainText("Der schnelle braune Fuchs springt über den faulen Hund.")
    qtbot.keyClick(panel.source_edit, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert "Detected" not in panel.detected_label.text()
    qtbot.waitUntil(engine.reached.is_set, timeout=JOB_TIMEOUT_MS)
    label = panel.detected_label.text
    qtbot.waitUntil(lambda: label().startswith("Detected: ") and "English" not in label())
    assert "etect" not in panel.status_text()  # not "Detecting the language…" any more
    assert label() == "Detected: German"
    with translation_ends(qtbot, panel):
        engine.release.set()
    assert panel.detected_label.text() == "Detected: German"


def test_glossary_is_sent_with_the_request_and_violations_are_flagged(
    qtbot: QtBot, translate_app: Any
) -> None:
    (window, chat, database), controller = translate_app()
    panel = controller.panel
    pick(panel, "en", "de")
    engine = record(controller.translator)
    editor = panel.glossary
    qtbot.mouseClick(editor.add_button, Qt.MouseButton.LeftButton)
    editor.table.item(0, 0).setText("invoice")
    editor.table.item(0, 1).setText("Rechnung")
    qtbot.keyClicks(editor.keep_edit, "Hearth")
    all_messages: list[str] = []
    inner_chat = engine.chat

    def chat_with_system(messages: Sequence[ChatMessage], **kwargs: Any) -> Any:
        all_messages.append(messages[0].content)
        return inner_chat(messages, **kwargs)

    engine.chat = chat_with_system  # type: ignore[method-assign]
    with translation_ends(qtbot, panel):
        type_and_translate(qtbot, panel, "Hearth sends the invoice.")
    assert '"invoice" → "Rechnung"' in all_messages[0]
    assert '"Hearth"' in all_messages[0]
    flags = panel.flags_text()
    assert panel.flags_label.isVisible()
    assert '"invoice" should be translated as "Rechnung"' in flags
    assert editor.table.item(0, 0).toolTip() == "⚠ Not respected by the last translation"

    # Glossaries belong to a language pair: another pair starts empty, this one comes back.
    panel.set_target_code("fr")
    assert editor.entries() == ([], [])
    panel.set_target_code("de")
    assert editor.entries() == ([("invoice", "Rechnung")], ["Hearth"])

    # They are kept for the next start of the app.
    controller.shutdown()
    again = install_translation(window, chat.session, chat.store, chat.paths, database)
    try:
        pick(again.panel, "en", "de")
        assert again.panel.glossary.entries() == ([("invoice", "Rechnung")], ["Hearth"])
    finally:
        again.shutdown()


def test_terms_the_model_missed_are_marked_where_they_are_in_the_source(
    qtbot: QtBot, translate_app: Any
) -> None:
    _parts, controller = translate_app()
    panel = controller.panel
    pick(panel, "en", "de")
    record(controller.translator)
    editor = panel.glossary
    qtbot.mouseClick(editor.add_button, Qt.MouseButton.LeftButton)
    editor.table.item(0, 0).setText("invoice")
    # The tiny model writes random pieces: it will not come up with this word.
    editor.table.item(0, 1).setText("Zahlungsaufforderung")
    text = "We send the invoice today. Pay the Invoice soon."
    with translation_ends(qtbot, panel):
        type_and_translate(qtbot, panel, text)
    assert '"invoice" should be translated as "Zahlungsaufforderung"' in panel.flags_text()
    first, second = text.index("invoice"), text.index("Invoice")
    spans = [
        (s.cursor.selectionStart(), s.cursor.selectionEnd())
        for s in list(panel.source_edit.extraSelections())
    ]
    assert spans == [(first, first + 7), (second, second + 7)]
    assert panel.source_text() == text

    item = panel.flags_list.item(0)
    rect = panel.flags_list.visualItemRect(item)
    qtbot.mouseClick(panel.flags_list.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    cursor = panel.source_edit.textCursor()
    assert (cursor.selectionStart(), cursor.selectionEnd()) == (first, first + 7)
    qtbot.keyClick(panel.source_edit, Qt.Key.Key_End)
    qtbot.keyClicks(panel.source_edit, " Thanks.")
    assert panel.source_edit.extraSelections() == []


def test_glossary_files_load_save_and_malformed_ones_get_a_plain_message(
    qtbot: QtBot, translate_app: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _parts, controller = translate_app()
    panel = controller.panel
    pick(panel, "en", "de")
    good = tmp_path / "terms.csv"
    good.write_text("source,target\ninvoice,Rechnung\nHearth\n", encoding="utf-8")
    bad = tmp_path / "broken.json"
    bad.write_text('{"terms": {"invoice": "Rechnung",}}', encoding="utf-8")
    saved = tmp_path / "saved.json"
    chosen = iter([str(good), str(bad)])
    monkeypatch.setattr(
        QFileDialog, "getOpenFileName", staticmethod(lambda *a, **k: (next(chosen), ""))
    )
    monkeypatch.setattr(
        QFileDialog, "getSaveFileName", staticmethod(lambda *a, **k: (str(saved), ""))
    )
    qtbot.mouseClick(panel.glossary.load_button, Qt.MouseButton.LeftButton)
    assert panel.glossary.entries() == ([("invoice", "Rechnung")], ["Hearth"])
    qtbot.mouseClick(panel.glossary.load_button, Qt.MouseButton.LeftButton)
    message = panel.message_text()
    assert message.startswith("The glossary was not loaded.")
    assert "broken.json, line 1: not valid JSON" in message
    assert panel.glossary.entries() == ([("invoice", "Rechnung")], ["Hearth"])  # kept
    qtbot.mouseClick(panel.glossary.save_button, Qt.MouseButton.LeftButton)
    assert '"invoice": "Rechnung"' in saved.read_text(encoding="utf-8")


def test_a_context_too_small_for_the_instructions_says_what_helps(
    qtbot: QtBot, translate_app: Any
) -> None:
    _parts, controller = translate_app(n_ctx=256)
    panel = controller.panel
    pick(panel, "en", "de")
    with translation_ends(qtbot, panel):
        type_and_translate(qtbot, panel, "We send the invoice today. Pay the invoice soon.")
    message = panel.message_text()
    assert message.startswith("The translation instructions, glossary and text do not fit")
    assert "the limit is 256" in message and "larger context size" in message
    assert "new chat" not in message  # the chat's advice does not apply here
    assert panel.source_text() == "We send the invoice today. Pay the invoice soon."


def test_history_is_searchable_and_restores_into_the_panel(
    qtbot: QtBot, translate_app: Any
) -> None:
    (_window, _chat, database), controller = translate_app()
    panel = controller.panel
    repo = TranslationRepository(database)
    repo.add(
        source_text="The cat sleeps",
        translation="Le chat dort",
        source_lang="en",
        target_lang="fr",
        model="m",
    )
    repo.add(
        source_text="Der Hund bellt",
        translation="The dog barks",
        source_lang="de",
        target_lang="en",
        model="m",
    )
    controller.history.refresh()
    panel.tools.setCurrentWidget(panel.history)
    assert panel.history.list.count() == 2
    with qtbot.waitSignal(panel.history.searchChanged, timeout=5_000):
        qtbot.keyClicks(panel.history.search, "chat")
    assert panel.history.list.count() == 1
    item = panel.history.list.item(0)
    assert "The cat sleeps" in item.text() and "English → French" in item.text()
    rect = panel.history.list.visualItemRect(item)
    qtbot.mouseClick(panel.history.list.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert panel.source_text() == "The cat sleeps"
    assert panel.translation_text() == "Le chat dort"
    assert (panel.source_code(), panel.target_code()) == ("en", "fr")
    # Typed text replaced by a restore can be brought back with Undo.
    qtbot.keyClick(panel.source_edit, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert panel.source_text() == ""
    panel.history.search.clear()
    qtbot.keyClicks(panel.history.search, "giraffe")
    qtbot.keyClick(panel.history.search, Qt.Key.Key_Return)
    assert panel.history.list.count() == 0 and panel.history.empty_label.isVisible()


def _add_history(database: Any, *sources: str) -> None:
    repo = TranslationRepository(database)
    for text in sources:
        repo.add(
            source_text=text,
            translation=text.upper(),
            source_lang="en",
            target_lang="fr",
            model="m",
        )


def _click_entry(qtbot: QtBot, panel: TranslationPanel, row: int, modifier: Any = None) -> None:
    history = panel.history.list
    rect = history.visualItemRect(history.item(row))
    modifiers = modifier or Qt.KeyboardModifier.NoModifier
    qtbot.mouseClick(history.viewport(), Qt.MouseButton.LeftButton, modifiers, rect.center())


def _listed(panel: TranslationPanel) -> list[str]:
    items = [panel.history.list.item(i) for i in range(panel.history.list.count())]
    return [item.text().split("\n")[0] for item in items]


def test_history_entries_are_deleted_by_key_or_menu_and_undo_brings_them_back(
    qtbot: QtBot, translate_app: Any
) -> None:
    (_window, _chat, database), controller = translate_app()
    panel = controller.panel
    repo = TranslationRepository(database)
    _add_history(database, "one", "two", "three")
    controller.history.refresh()
    panel.tools.setCurrentWidget(panel.history)
    assert _listed(panel) == ["three", "two", "one"]

    _click_entry(qtbot, panel, 0)
    assert panel.source_text() == "three"  # a plain click restores
    _click_entry(qtbot, panel, 2, Qt.KeyboardModifier.ControlModifier)
    assert panel.source_text() == "three"  # Ctrl+click only adds to the selection
    qtbot.keyClick(panel.history.list, Qt.Key.Key_Delete)
    assert _listed(panel) == ["two"]
    assert [r.source_text for r in repo.search()] == ["two"]
    undo = panel.history.undo_bar
    assert undo.isVisible() and undo.label.text() == "Deleted 2 translations from the history."
    qtbot.mouseClick(undo.action_button, Qt.MouseButton.LeftButton)
    assert _listed(panel) == ["three", "two", "one"]
    assert sorted(r.source_text for r in repo.search()) == ["one", "three", "two"]

    # The list's context menu holds the same command.
    history = panel.history.list
    assert history.contextMenuPolicy() == Qt.ContextMenuPolicy.ActionsContextMenu
    assert [a.text() for a in history.actions()] == ["Delete", "Clear history…"]
    _click_entry(qtbot, panel, 1)
    panel.history.delete_action.trigger()
    assert _listed(panel) == ["three", "one"] and repo.count() == 2


def test_clear_history_asks_first_and_then_empties_it(qtbot: QtBot, translate_app: Any) -> None:
    (_window, _chat, database), controller = translate_app()
    panel = controller.panel
    _add_history(database, "one", "two")
    controller.history.refresh()
    panel.tools.setCurrentWidget(panel.history)
    questions: list[str] = []

    def answer(button: QMessageBox.StandardButton) -> None:
        box = QApplication.activeModalWidget()
        assert isinstance(box, QMessageBox)
        questions.append(box.text())
        qtbot.mouseClick(box.button(button), Qt.MouseButton.LeftButton)

    QTimer.singleShot(0, lambda: answer(QMessageBox.StandardButton.Cancel))
    panel.history.clear_action.trigger()
    assert questions == ["Delete all 2 past translations? This cannot be undone."]
    assert TranslationRepository(database).count() == 2 and panel.history.list.count() == 2

    QTimer.singleShot(0, lambda: answer(QMessageBox.StandardButton.Yes))
    panel.history.clear_action.trigger()
    assert TranslationRepository(database).count() == 0
    assert panel.history.list.count() == 0 and panel.history.empty_label.isVisible()
    assert panel.status_text() == "Cleared the history (2 translations)."
    assert not panel.history.clear_action.isEnabled()


def test_file_translation_writes_next_to_the_source_and_never_touches_it(
    qtbot: QtBot, translate_app: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _parts, controller = translate_app()
    panel = controller.panel
    pick(panel, "en", "fr")
    engine = record(controller.translator)
    folder = tmp_path / "docs"
    folder.mkdir()
    source = folder / "notes.md"
    original = "# Title\n\nSome text here.\n\n- an item\n"
    source.write_text(original, encoding="utf-8")
    broken = folder / "movie.srt"
    broken.write_text("1\n00:00:01,000 --> 00:00:02,000\nHello\n\n2\nnot a timing\nBye\n")
    chosen = iter([str(source), str(broken)])
    monkeypatch.setattr(
        QFileDialog, "getOpenFileName", staticmethod(lambda *a, **k: (next(chosen), ""))
    )
    with translation_ends(qtbot, panel):
        qtbot.mouseClick(panel.file_button, Qt.MouseButton.LeftButton)
    written = folder / "notes.fr.md"
    assert written.is_file() and written.read_text(encoding="utf-8").startswith("# ")
    assert source.read_text(encoding="utf-8") == original
    assert "Saved notes.fr.md" in panel.status_text()
    assert len(engine.sent) == 3

    with translation_ends(qtbot, panel):
        qtbot.mouseClick(panel.file_button, Qt.MouseButton.LeftButton)
    assert "cue 2: broken timing" in panel.message_text()
    assert sorted(p.name for p in folder.iterdir()) == ["movie.srt", "notes.fr.md", "notes.md"]


def test_a_dropped_file_is_translated_next_to_it_once_confirmed(
    qtbot: QtBot, translate_app: Any, tmp_path: Path
) -> None:
    _parts, controller = translate_app()
    panel = controller.panel
    pick(panel, "en", "fr")
    engine = record(controller.translator)
    source = tmp_path / "letter.txt"
    source.write_text("Dear friend,\n\nSee you soon.\n", encoding="utf-8")
    (tmp_path / "letter.fr.txt").write_text("old", encoding="utf-8")
    _enter, drop = file_drag([source])
    panel.dropEvent(drop)
    assert drop.isAccepted()
    question = panel.file_question()
    assert "Translate letter.txt into French?" in question
    # An earlier translation (perhaps corrected by hand) is kept: the new one gets a number.
    assert "saved next to it as letter.fr (2).txt" in question
    assert engine.sent == []  # nothing runs before the user says so
    with translation_ends(qtbot, panel):
        qtbot.mouseClick(panel.file_bar.action_button, Qt.MouseButton.LeftButton)
    assert len(engine.sent) == 2
    assert (tmp_path / "letter.fr.txt").read_text(encoding="utf-8") == "old"
    assert (tmp_path / "letter.fr (2).txt").read_text(encoding="utf-8").strip()
    assert source.read_text(encoding="utf-8") == "Dear friend,\n\nSee you soon.\n"
    assert "Saved letter.fr (2).txt" in panel.status_text()


def test_dropping_unsupported_or_several_files_explains_what_works(
    qtbot: QtBot, translate_app: Any, tmp_path: Path
) -> None:
    _parts, controller = translate_app()
    panel = controller.panel
    engine = record(controller.translator)
    panel.source_edit.setPlainText("Kept as it is.")
    folder = tmp_path / "dropped"
    folder.mkdir()
    pdf, txt = folder / "report.pdf", folder / "notes.txt"
    for path in (pdf, txt):
        path.write_bytes(b"x")
    _enter, drop = file_drag([pdf])
    panel.dropEvent(drop)
    assert panel.message_text().startswith("report.pdf cannot be translated here")
    assert ".txt, .md, .markdown, .srt, .docx" in panel.message_text()
    _enter, drop = file_drag([pdf, txt])
    panel.dropEvent(drop)
    assert panel.message_text() == "2 files were dropped. Drop one file at a time to translate it."
    _enter, drop = file_drag([folder])
    panel.dropEvent(drop)
    assert panel.message_text() == "dropped is a folder. Drop one file to translate it."
    assert panel.file_question() == "" and engine.sent == []
    assert panel.source_text() == "Kept as it is."
    assert sorted(p.name for p in folder.iterdir()) == ["notes.txt", "report.pdf"]


def test_cancelling_a_file_translation_leaves_no_file(
    qtbot: QtBot, translate_app: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _parts, controller = translate_app()
    panel = controller.panel
    pick(panel, "en", "de")
    engine = record(controller.translator)
    engine.hold_at = 2
    folder = tmp_path / "subs"
    folder.mkdir()
    source = folder / "film.srt"
    source.write_text(
        "1\n00:00:01,000 --> 00:00:02,000\nHello there.\n\n"
        "2\n00:00:03,000 --> 00:00:04,000\nGood bye.\n",
        encoding="utf-8",
    )
    monkeypatch.setattr(
        QFileDialog, "getOpenFileName", staticmethod(lambda *a, **k: (str(source), ""))
    )
    qtbot.mouseClick(panel.file_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(engine.reached.is_set, timeout=JOB_TIMEOUT_MS)
    assert panel.progress.isVisible()
    panel.source_edit.setFocus()
    with translation_ends(qtbot, panel, timeout=5_000):
        qtbot.keyClick(panel.source_edit, Qt.Key.Key_Escape)
    assert panel.status_text() == "Cancelled. No file was written."
    assert [p.name for p in folder.iterdir()] == ["film.srt"]


def test_back_translation_is_shown_beside_the_source(qtbot: QtBot, translate_app: Any) -> None:
    _parts, controller = translate_app()
    panel = controller.panel
    pick(panel, "en", "fr")
    engine = record(controller.translator)
    qtbot.mouseClick(panel.back_check, Qt.MouseButton.LeftButton)
    assert panel.back_edit.isVisible()
    with translation_ends(qtbot, panel):
        type_and_translate(qtbot, panel, "A short sentence.")
    assert len(engine.sent) == 2
    assert engine.sent[1] == panel.translation_text().strip()  # the result went back
    assert panel.back_translation_text().strip() != ""


def test_translation_only_model_runs_in_a_second_engine_until_shutdown(
    qtbot: QtBot, translate_app: Any, tiny_model: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (_window, chat, _database), controller = translate_app()
    panel = controller.panel
    pick(panel, "en", "fr")
    chat_engine = record(controller.chat_translator)
    monkeypatch.setattr(
        QFileDialog, "getOpenFileName", staticmethod(lambda *a, **k: (str(tiny_model), ""))
    )
    panel.model_choice.activated.emit(1)  # what picking the second entry does
    qtbot.waitUntil(
        lambda: "(translation only)" in panel.model_label.text(), timeout=JOB_TIMEOUT_MS
    )
    own = controller.own
    assert own is not None and own.client.pid not in (None, chat.client.pid)
    assert panel.model_choice.currentIndex() == 1
    assert "translation only" in panel.model_label.text()
    own_engine = record(controller.translator)
    with translation_ends(qtbot, panel):
        type_and_translate(qtbot, panel, "Through the second engine.")
    assert own_engine.sent == ["Through the second engine."] and chat_engine.sent == []

    # Back to the chat model: the second engine stops.
    client = own.client
    panel.model_choice.setCurrentIndex(0)
    panel.model_choice.activated.emit(0)
    assert controller.own is None and not client.running

    panel.model_choice.activated.emit(1)
    qtbot.waitUntil(
        lambda: "(translation only)" in panel.model_label.text(), timeout=JOB_TIMEOUT_MS
    )
    client = controller.own.client
    assert client.running
    controller.shutdown()
    assert not client.running and controller.own is None


def test_shutdown_during_a_translation_returns_promptly(qtbot: QtBot, translate_app: Any) -> None:
    _parts, controller = translate_app()
    panel = controller.panel
    pick(panel, "en", "fr")
    engine = record(controller.translator, max_tokens=64)
    engine.hold_at = 1
    panel.source_edit.setPlainText(THREE_PARAGRAPHS)
    qtbot.mouseClick(panel.translate_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(engine.reached.is_set, timeout=JOB_TIMEOUT_MS)
    controller.shutdown()
    assert not controller.busy() and not panel.is_busy()


def test_copy_puts_the_translation_on_the_clipboard(qtbot: QtBot, translate_app: Any) -> None:
    _parts, controller = translate_app()
    panel = controller.panel
    pick(panel, "en", "fr")
    record(controller.translator)
    with translation_ends(qtbot, panel):
        type_and_translate(qtbot, panel, "Copy me.")
    QGuiApplication.clipboard().clear()
    qtbot.mouseClick(panel.copy_button, Qt.MouseButton.LeftButton)
    assert QGuiApplication.clipboard().text() == panel.translation_text() != ""


@pytest.mark.slow
def test_gemma_translates_a_sentence_end_to_end(
    qtbot: QtBot, make_app: MakeApp, gemma_model: Path
) -> None:
    window, chat, database = make_app(gemma_model, n_ctx=1024)
    controller = install_translation(window, chat.session, chat.store, chat.paths, database)
    try:
        panel = controller.panel
        window.show_page(panel)
        panel.set_source_code("en")
        index = panel.target_language.findData("fr")
        panel.target_language.setCurrentIndex(index)
        with translation_ends(qtbot, panel, timeout=120_000):
            type_and_translate(qtbot, panel, "The weather is nice today.")
        assert panel.translation_text().strip()
        [stored] = TranslationRepository(database).search("weather")
        assert stored.translation == panel.translation_text()
        assert stored.target_lang == "fr"
    finally:
        controller.shutdown()
