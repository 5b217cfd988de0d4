"""The Translate page: source text on the left, its translation streaming in on the right,
language pickers, glossary and history below. GUI thread only.

The panel holds no translation logic. Commands go out as ``...Requested`` signals and the
controller reads the panel's state through its getters; results come back through the
``show_*`` / ``append_*`` methods.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtGui import (
    QGuiApplication,
    QKeyEvent,
    QKeySequence,
    QShortcut,
)
from PySide6.QtWidgets import (
    QCheckBox,
    QFileDialog,
    QLabel,
    QListWidget,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QToolButton,
    QWidget,
)

from ui.translation.drops import FileDropFilter, FileDropTarget
from ui.translation.flags_view import FlagsView
from ui.translation.glossary import GlossaryEditor
from ui.translation.history import TranslationHistory
from ui.translation.language_pickers import DETECTING, LanguagePickers
from ui.translation.marks import TermMark, TextMarks
from ui.translation.model_choice import TranslationModelChoice
from ui.translation.panel_layout import PanelLayout
from ui.translation.text_edits import append_text, replace_undoable
from ui.widgets.eliding_label import ElidingLabel
from ui.widgets.language_combo import LanguageCombo
from ui.widgets.message_bar import MessageBar

FILE_FILTER = "Text, Markdown, subtitles, Word (*.txt *.md *.markdown *.srt *.docx)"


def _format_seconds(seconds: float) -> str:
    if seconds < 60:
        return f"{max(1, round(seconds))} s"
    return f"{round(seconds / 60)} min"


class TranslationPanel(FileDropTarget, LanguagePickers, FlagsView, PanelLayout):
    """Signals (GUI thread), commands for the translation controller:
    ``translateRequested()``, ``cancelRequested()``, ``detectRequested()``,
    ``fileChosen(path)``, ``languagesChanged()`` (either picker or a swap),
    ``modelChosen(path)`` ("" means the chat model), ``remoteChosen(connection, model)`` (a
    server's model, issue 14), ``filesDropped(paths)`` (files dropped
    on the page; the controller answers with `ask_to_translate_file` or a message). The
    glossary editor (``glossary``) and the history list (``history``) have their own
    signals."""

    translateRequested = Signal()
    cancelRequested = Signal()
    detectRequested = Signal()
    fileChosen = Signal(str)
    languagesChanged = Signal()
    modelChosen = Signal(str)
    remoteChosen = Signal(str, str)
    filesDropped = Signal(list)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._busy = False
        self._detected: str | None = None  # what "Detect automatically" last found
        self._detecting = False  # a job is detecting the text's language now
        self._dropped_file = ""  # waiting for the user to confirm its translation

        self.source_language = LanguageCombo(self)
        self.source_language.setAccessibleName("Source language")
        self.detect_button = QPushButton("Detect", self)
        self.detect_button.setToolTip("Tell which language the text is in")
        self.detected_label = QLabel(self)
        # Room for "Detecting the language…" and most answers, so the pickers beside it do
        # not jump as the text changes.
        self.detected_label.setMinimumWidth(
            self.detected_label.fontMetrics().horizontalAdvance(DETECTING) + 8
        )
        self.swap_button = QToolButton(self)
        self.swap_button.setText("⇄")
        self.swap_button.setToolTip("Swap the languages and the texts")
        self.swap_button.setAccessibleName("Swap languages")
        self.target_language = LanguageCombo(self)
        self.target_language.setAccessibleName("Target language")
        self.model_choice = TranslationModelChoice(self)
        self.model_label = QLabel(self)

        self.source_edit = QPlainTextEdit(self)
        self.source_edit.setPlaceholderText(
            "Type or paste the text to translate.\nCtrl+Enter translates."
        )
        self.source_edit.setAccessibleName("Text to translate")
        self.translation_edit = QPlainTextEdit(self)
        self.translation_edit.setReadOnly(True)
        self.translation_edit.setPlaceholderText("The translation appears here.")
        self.translation_edit.setAccessibleName("Translation")
        self.back_edit = QPlainTextEdit(self)
        self.back_edit.setReadOnly(True)
        self.back_edit.setPlaceholderText("The translation, translated back, appears here.")
        self.back_edit.setAccessibleName("Back-translation")

        self.translate_button = QPushButton("Translate", self)
        self.translate_button.setToolTip("Translate (Ctrl+Enter)")
        self.cancel_button = QPushButton("Cancel", self)
        self.cancel_button.setToolTip("Stop the translation (Esc)")
        self.copy_button = QPushButton("Copy", self)
        self.copy_button.setToolTip("Copy the translation")
        self.clear_button = QPushButton("Clear", self)
        self.back_check = QCheckBox("Check by translating back", self)
        self.back_check.setToolTip(
            "Translate the result back into the source language, to spot changes of meaning"
        )
        self.file_button = QPushButton("Translate file…", self)
        self.progress = QProgressBar(self)
        self.progress.setMaximumWidth(200)
        self.progress.hide()
        # One line that never wraps nor widens the page; the whole text in its tooltip.
        self.status_label = ElidingLabel("", self, whole_in_tooltip=True)
        self._progress_line = ""  # the last "Translating: …" line (show_reading adds to it)
        self.flags_label = QLabel("⚠ Check the translation:", self)
        self.flags_label.hide()
        self.flags_list = QListWidget(self)
        self.flags_list.setAccessibleName("Problems found in the translation")
        self.flags_list.setToolTip("Click a glossary problem to find the term in the text")
        self.flags_list.setMaximumHeight(90)
        self.flags_list.hide()
        self._marks: list[TermMark] = []
        self._source_marks = TextMarks(self.source_edit)
        self._translation_marks = TextMarks(self.translation_edit)
        self.message_bar = MessageBar(parent=self)
        self.file_bar = MessageBar("Translate file", parent=self)

        self.glossary = GlossaryEditor(self)
        self.history = TranslationHistory(self)

        self._lay_out()
        self._connect()

    def _connect(self) -> None:
        self.translate_button.clicked.connect(self.translateRequested)
        self.cancel_button.clicked.connect(self.cancelRequested)
        self.detect_button.clicked.connect(self.detectRequested)
        self.copy_button.clicked.connect(self.copy_translation)
        self.clear_button.clicked.connect(self.clear)
        self.swap_button.clicked.connect(self.swap)
        self.file_button.clicked.connect(self._choose_file)
        self.source_language.currentIndexChanged.connect(self._on_source_picked)
        self.target_language.currentIndexChanged.connect(lambda _i: self.languagesChanged.emit())
        self.model_choice.modelChosen.connect(self.modelChosen)
        self.model_choice.remoteChosen.connect(self.remoteChosen)
        self.back_check.toggled.connect(lambda on: self._back_box.setVisible(on))
        self.flags_list.itemClicked.connect(self._go_to_flag)
        self.flags_list.itemActivated.connect(self._go_to_flag)
        # Marks point into the texts they were made for: any edit makes them wrong.
        self.source_edit.textChanged.connect(self._clear_marks)
        # What was detected belongs to the text it was detected in.
        self.source_edit.textChanged.connect(self._forget_detection)
        self.translation_edit.textChanged.connect(self._clear_marks)
        self.file_bar.actionTriggered.connect(self._translate_dropped_file)
        # The question names the output file, which depends on the target language.
        self.languagesChanged.connect(self.file_bar.hide)
        # Files dropped anywhere on the page are claimed (dropEvent) so they do not fall
        # through to the window, which opens them in Documents; the source box would paste
        # their path, so its drops are filtered first.
        self.setAcceptDrops(True)
        drops = FileDropFilter(self)
        drops.filesDropped.connect(self.filesDropped)
        self.source_edit.viewport().installEventFilter(drops)
        context = Qt.ShortcutContext.WidgetWithChildrenShortcut
        for keys in ("Ctrl+Return", "Ctrl+Enter"):
            shortcut = QShortcut(QKeySequence(keys), self, context=context)
            shortcut.activated.connect(self._on_translate_key)

    # ---- texts --------------------------------------------------------------------------

    def source_text(self) -> str:
        return self.source_edit.toPlainText()

    def translation_text(self) -> str:
        return self.translation_edit.toPlainText()

    def back_translation_text(self) -> str:
        return self.back_edit.toPlainText()

    def wants_back_translation(self) -> bool:
        return self.back_check.isChecked()

    def begin_translation(self) -> None:
        self.translation_edit.clear()
        self.back_edit.clear()
        self.show_flags(())
        self.hide_message()
        self.status_label.clear()

    def append_translation(self, text: str) -> None:
        append_text(self.translation_edit, text)

    def set_translation(self, text: str) -> None:
        if text != self.translation_edit.toPlainText():
            self.translation_edit.setPlainText(text)

    def begin_back_translation(self) -> None:
        self.back_edit.clear()
        self._back_box.show()

    def append_back_translation(self, text: str) -> None:
        append_text(self.back_edit, text)

    def set_back_translation(self, text: str) -> None:
        if text != self.back_edit.toPlainText():
            self.back_edit.setPlainText(text)

    def restore(self, source: str, translation: str, source_code: str | None, target: str) -> None:
        """Put a past translation back into the editors (the source stays editable)."""
        self.set_source_code(source_code)
        self.set_target_code(target)
        replace_undoable(self.source_edit, source)
        self.translation_edit.setPlainText(translation)
        self.back_edit.clear()
        self.show_flags(())
        self.source_edit.setFocus()

    def copy_translation(self) -> None:
        text = self.translation_text()
        if not text:
            self.show_status("There is no translation to copy yet.")
            return
        QGuiApplication.clipboard().setText(text)
        self.show_status("Translation copied.")

    def clear(self) -> None:
        if self._busy:
            self.cancelRequested.emit()
        replace_undoable(self.source_edit, "")
        self.translation_edit.clear()
        self.back_edit.clear()
        self.show_flags(())
        self.hide_message()
        self.status_label.clear()
        self._set_detection(None, "")
        self.source_edit.setFocus()

    def swap(self) -> None:
        """Swap the languages and the texts: the translation becomes the new source."""
        source = self.source_code() or self._detected
        if source is None:
            self.show_error("Pick the source language first, then swap.")
            self.source_language.setFocus()
            return
        target = self.target_code()
        source_text, translation = self.source_text(), self.translation_text()
        self.source_language.blockSignals(True)
        self.target_language.blockSignals(True)
        self.set_source_code(target)
        self.set_target_code(source)
        self.source_language.blockSignals(False)
        self.target_language.blockSignals(False)
        replace_undoable(self.source_edit, translation)
        self.translation_edit.setPlainText(source_text)
        self.back_edit.clear()
        self.show_flags(())
        self._set_detection(None, "")
        self.languagesChanged.emit()

    # ---- progress and messages ----------------------------------------------------------

    def set_busy(self, busy: bool) -> None:
        self._busy = busy
        self._set_busy_buttons()
        if not busy:
            self.progress.hide()
            if self._detecting:  # the job ended (cancelled, failed) before detection did
                self._set_detection(None, "")

    def is_busy(self) -> bool:
        return self._busy

    def show_progress(self, done: int, total: int, seconds_left: float | None) -> None:
        self.progress.setRange(0, max(total, 1))
        self.progress.setValue(done)
        self.progress.show()
        left = "" if seconds_left is None else f", about {_format_seconds(seconds_left)} left"
        self._progress_line = f"Translating: {done} of {total} segments{left}"
        self.status_label.setText(self._progress_line)

    def show_reading(self, text: str) -> None:
        """The engine reading a long segment's prompt, after the progress line ("" when done)."""
        line = self._progress_line
        self.status_label.setText(f"{line} · {text}" if line and text else line or text)

    def show_busy(self, text: str) -> None:
        """Work without a count yet (detecting, loading): a moving bar and a line of text."""
        self.progress.setRange(0, 0)
        self.progress.show()
        self.status_label.setText(text)

    def show_status(self, text: str) -> None:
        self.status_label.setText(text)

    def status_text(self) -> str:
        return self.status_label.text()

    def show_error(self, text: str) -> None:
        self.message_bar.show_message(text)

    def show_info(self, text: str) -> None:
        self.message_bar.show_message(text)

    def hide_message(self) -> None:
        self.message_bar.hide()

    def message_text(self) -> str:
        return self.message_bar.label.text() if self.message_bar.isVisible() else ""

    def ask_to_translate_file(self, path: str, question: str) -> None:
        """Ask before a dropped file is translated (a drop is easily a slip of the hand);
        its "Translate file" button emits ``fileChosen(path)``."""
        self._dropped_file = path
        self.file_bar.show_message(question)

    def file_question(self) -> str:
        return self.file_bar.label.text() if self.file_bar.isVisible() else ""

    def set_model_label(self, text: str) -> None:
        self.model_label.setText(text)

    def show_model_in_use(self, own_model: bool) -> None:
        """Point the model picker at what translations use now."""
        self.model_choice.show_in_use(own_model)

    def show_remote_model_in_use(self, connection: str, model: str) -> None:
        """Translations use `model` on the server `connection` (issue 14)."""
        self.model_choice.show_remote_in_use(connection, model)

    # ---- internals ----------------------------------------------------------------------

    def _set_busy_buttons(self) -> None:
        busy = self._busy
        self.translate_button.setEnabled(not busy)
        self.file_button.setEnabled(not busy)
        self.detect_button.setEnabled(not busy)
        self.swap_button.setEnabled(not busy)
        self.model_choice.setEnabled(not busy)
        self.file_bar.action_button.setEnabled(not busy)
        self.cancel_button.setEnabled(busy)

    def _on_translate_key(self) -> None:
        if not self._busy:
            self.translateRequested.emit()

    def event(self, event: QEvent) -> bool:
        # The window's own Esc shortcut stops the chat; while a translation runs, Esc on
        # this page cancels it instead (claimed here, then handled in keyPressEvent).
        if (
            event.type() == QEvent.Type.ShortcutOverride
            and self._busy
            and isinstance(event, QKeyEvent)
            and event.key() == Qt.Key.Key_Escape
        ):
            event.accept()
            return True
        return super().event(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Escape and self._busy:
            self.cancelRequested.emit()
            return
        super().keyPressEvent(event)

    def _choose_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Translate a file", "", FILE_FILTER)
        if path:
            self.fileChosen.emit(path)

    def _translate_dropped_file(self) -> None:
        path, self._dropped_file = self._dropped_file, ""
        if path:
            self.fileChosen.emit(path)
