"""The Translate page: source text on the left, its translation streaming in on the right,
language pickers, glossary and history below. GUI thread only.

The panel holds no translation logic. Commands go out as ``...Requested`` signals and the
controller reads the panel's state through its getters; results come back through the
``show_*`` / ``append_*`` methods.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtGui import (
    QDragEnterEvent,
    QDropEvent,
    QGuiApplication,
    QKeyEvent,
    QKeySequence,
    QShortcut,
    QTextCursor,
)
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QSplitter,
    QTabWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from ui.translation.drops import FileDropFilter, local_paths
from ui.translation.glossary import GlossaryEditor
from ui.translation.history import TranslationHistory
from ui.translation.marks import TermMark, TextMarks, qt_position
from ui.widgets.language_combo import LanguageCombo
from ui.widgets.message_bar import MessageBar

AUTO_DETECT = "Detect automatically"
DETECTING = "Detecting the language…"
_NAME_ROLE = Qt.ItemDataRole.UserRole + 1  # the name a sentence uses ("German")
CHAT_MODEL = "Use the chat model"
OWN_MODEL = "A model for translation only…"
FILE_FILTER = "Text, Markdown, subtitles, Word (*.txt *.md *.markdown *.srt *.docx)"
MODEL_FILTER = "GGUF models (*.gguf)"


def _format_seconds(seconds: float) -> str:
    if seconds < 60:
        return f"{max(1, round(seconds))} s"
    return f"{round(seconds / 60)} min"


class TranslationPanel(QWidget):
    """Signals (GUI thread), commands for the translation controller:
    ``translateRequested()``, ``cancelRequested()``, ``detectRequested()``,
    ``fileChosen(path)``, ``languagesChanged()`` (either picker or a swap),
    ``modelChosen(path)`` ("" means the chat model), ``filesDropped(paths)`` (files dropped
    on the page; the controller answers with `ask_to_translate_file` or a message). The
    glossary editor (``glossary``) and the history list (``history``) have their own
    signals."""

    translateRequested = Signal()
    cancelRequested = Signal()
    detectRequested = Signal()
    fileChosen = Signal(str)
    languagesChanged = Signal()
    modelChosen = Signal(str)
    filesDropped = Signal(list)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._busy = False
        self._detected: str | None = None  # what "Detect automatically" last found
        self._detecting = False  # a job is detecting the text's language now
        self._own_model = False  # a translation-only model is in use
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
        self.model_choice = QComboBox(self)
        self.model_choice.addItems([CHAT_MODEL, OWN_MODEL])
        self.model_choice.setAccessibleName("Translation model")
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
        self.status_label = QLabel(self)
        self.status_label.setWordWrap(True)
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

    def _lay_out(self) -> None:
        languages = QHBoxLayout()
        languages.addWidget(QLabel("From", self))
        languages.addWidget(self.source_language)
        languages.addWidget(self.detect_button)
        languages.addWidget(self.detected_label, 1)
        languages.addWidget(self.swap_button)
        languages.addWidget(QLabel("To", self))
        languages.addWidget(self.target_language)
        languages.addStretch(1)
        languages.addWidget(QLabel("Model:", self))
        languages.addWidget(self.model_choice)
        languages.addWidget(self.model_label)

        self.editors = QSplitter(Qt.Orientation.Horizontal, self)
        for edit, title in (
            (self.source_edit, "Source"),
            (self.translation_edit, "Translation"),
            (self.back_edit, "Translated back"),
        ):
            box = QWidget(self.editors)
            column = QVBoxLayout(box)
            column.setContentsMargins(0, 0, 0, 0)
            column.addWidget(QLabel(title, box))
            column.addWidget(edit, 1)
            self.editors.addWidget(box)
        self.editors.setChildrenCollapsible(False)
        self._back_box = self.editors.widget(2)
        self._back_box.hide()

        actions = QHBoxLayout()
        for widget in (
            self.translate_button,
            self.cancel_button,
            self.copy_button,
            self.clear_button,
            self.back_check,
            self.file_button,
        ):
            actions.addWidget(widget)
        actions.addStretch(1)
        actions.addWidget(self.status_label, 2)
        actions.addWidget(self.progress)

        top = QWidget(self)
        top_layout = QVBoxLayout(top)
        top_layout.setContentsMargins(0, 0, 0, 0)
        top_layout.addLayout(languages)
        top_layout.addWidget(self.editors, 1)
        top_layout.addLayout(actions)
        top_layout.addWidget(self.flags_label)
        top_layout.addWidget(self.flags_list)
        top_layout.addWidget(self.message_bar)
        top_layout.addWidget(self.file_bar)

        self.tools = QTabWidget(self)
        self.tools.addTab(self.glossary, "Glossary")
        self.tools.addTab(self.history, "History")
        splitter = QSplitter(Qt.Orientation.Vertical, self)
        splitter.addWidget(top)
        splitter.addWidget(self.tools)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([480, 240])
        splitter.setChildrenCollapsible(False)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.addWidget(splitter)
        self._set_busy_buttons()

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
        self.model_choice.activated.connect(self._on_model_choice)
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

    # ---- languages ----------------------------------------------------------------------

    def set_languages(self, languages: Sequence[tuple[str, str, str]]) -> None:
        """(code, label, name) triples in the order to show them: the label is what the
        lists show ("German — Deutsch"), the name what sentences say ("German")."""
        for combo in (self.source_language, self.target_language):
            combo.blockSignals(True)
            combo.clear()
        self.source_language.addItem(AUTO_DETECT, None)
        for code, label, name in languages:
            for combo in (self.source_language, self.target_language):
                combo.addItem(label, code)
                combo.setItemData(combo.count() - 1, code, Qt.ItemDataRole.ToolTipRole)
                combo.setItemData(combo.count() - 1, name, _NAME_ROLE)
        for combo in (self.source_language, self.target_language):
            combo.blockSignals(False)

    def source_code(self) -> str | None:
        """The picked source language, or None for "Detect automatically"."""
        code = self.source_language.currentData()
        return str(code) if code else None

    def target_code(self) -> str:
        return str(self.target_language.currentData() or "")

    def set_source_code(self, code: str | None) -> None:
        index = self.source_language.findData(code) if code else 0
        self.source_language.setCurrentIndex(max(index, 0))

    def set_target_code(self, code: str) -> None:
        index = self.target_language.findData(code)
        if index >= 0:
            self.target_language.setCurrentIndex(index)

    def language_label(self, code: str | None) -> str:
        """The language's name as a sentence says it ("into German")."""
        if code is None:
            return AUTO_DETECT
        index = self.target_language.findData(code)
        return str(self.target_language.itemData(index, _NAME_ROLE)) if index >= 0 else code

    def begin_detection(self) -> None:
        """The text's language is being detected (for a translation or by Detect)."""
        self._set_detection(None, DETECTING, detecting=True)

    def show_detection(self, code: str | None, message: str) -> None:
        """The detector's answer: a language (then used as the source) or a plain reason."""
        self._set_detection(code, message)
        if code is None:
            self.show_error(message)
            self.source_language.setFocus()
            return
        self.hide_message()

    def detection_text(self) -> str:
        return self.detected_label.text()

    def detected_code(self) -> str | None:
        return self._detected

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
        _append(self.translation_edit, text)

    def set_translation(self, text: str) -> None:
        if text != self.translation_edit.toPlainText():
            self.translation_edit.setPlainText(text)

    def begin_back_translation(self) -> None:
        self.back_edit.clear()
        self._back_box.show()

    def append_back_translation(self, text: str) -> None:
        _append(self.back_edit, text)

    def set_back_translation(self, text: str) -> None:
        if text != self.back_edit.toPlainText():
            self.back_edit.setPlainText(text)

    def restore(self, source: str, translation: str, source_code: str | None, target: str) -> None:
        """Put a past translation back into the editors (the source stays editable)."""
        self.set_source_code(source_code)
        self.set_target_code(target)
        _replace_undoable(self.source_edit, source)
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
        _replace_undoable(self.source_edit, "")
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
        _replace_undoable(self.source_edit, translation)
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
        self.status_label.setText(f"Translating: {done} of {total} segments{left}")

    def show_busy(self, text: str) -> None:
        """Work without a count yet (detecting, loading): a moving bar and a line of text."""
        self.progress.setRange(0, 0)
        self.progress.show()
        self.status_label.setText(text)

    def show_status(self, text: str) -> None:
        self.status_label.setText(text)

    def status_text(self) -> str:
        return self.status_label.text()

    def show_flags(self, flags: Sequence[str], marks: Sequence[TermMark] = ()) -> None:
        """Problems the last translation has (glossary terms not respected, lost markers),
        listed once each; `marks` say where the glossary ones are in the current texts."""
        flags = list(dict.fromkeys(flags))
        self._clear_marks()
        self._marks = list(marks)
        self.flags_list.clear()
        for flag in flags:
            item = QListWidgetItem(f"• {flag}", self.flags_list)
            mark = self._mark_for(flag)
            if mark is not None:
                item.setToolTip(mark.source_tip() + " Click to find it in the text.")
        self.flags_label.setVisible(bool(flags))
        self.flags_list.setVisible(bool(flags))
        self._source_marks.show(
            [(span, mark.source_tip(), True) for mark in marks for span in mark.source_spans]
        )
        self._translation_marks.show(
            [
                (span, mark.translation_tip(), mark.translation_exact)
                for mark in marks
                for span in mark.translation_spans
            ]
        )
        terms = [flag.split('"')[1] for flag in flags if flag.count('"') >= 2]
        self.glossary.mark_violations(terms)

    def flags_text(self) -> str:
        if not self.flags_list.isVisible():
            return ""
        lines = [self.flags_list.item(i).text() for i in range(self.flags_list.count())]
        return "\n".join([self.flags_label.text(), *lines])

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
        self._own_model = own_model
        self.model_choice.setCurrentIndex(1 if own_model else 0)

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

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if local_paths(event):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event: QDropEvent) -> None:
        paths = local_paths(event)
        if paths:
            event.acceptProposedAction()
            self.filesDropped.emit(paths)
        else:
            event.ignore()

    def _on_source_picked(self, _index: int) -> None:
        if self.source_code() is not None:
            self._set_detection(None, "")
        self.languagesChanged.emit()

    def _set_detection(self, code: str | None, text: str, *, detecting: bool = False) -> None:
        """The one state of detection, and the one place that tells it: the language found
        (or the reason there is none, or that detection is running) beside the picker. The
        status line speaks of the job, never of detection, so the two cannot disagree."""
        self._detected = code
        self._detecting = detecting
        self.detected_label.setText(f"Detected: {self.language_label(code)}" if code else text)

    def _forget_detection(self) -> None:
        if not self._busy and (self._detected is not None or self.detected_label.text()):
            self._set_detection(None, "")

    def _choose_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Translate a file", "", FILE_FILTER)
        if path:
            self.fileChosen.emit(path)

    def _mark_for(self, flag: str) -> TermMark | None:
        return next((mark for mark in self._marks if mark.message == flag), None)

    def _clear_marks(self) -> None:
        self._marks = []
        self._source_marks.clear()
        self._translation_marks.clear()

    def _go_to_flag(self, item: QListWidgetItem) -> None:
        """Select the flagged term's first occurrence in the source."""
        mark = self._mark_for(item.text().removeprefix("• "))
        if mark is None or not mark.source_spans:
            return
        text = self.source_text()
        start, end = mark.source_spans[0]
        cursor = QTextCursor(self.source_edit.document())
        cursor.setPosition(qt_position(text, start))
        cursor.setPosition(qt_position(text, end), QTextCursor.MoveMode.KeepAnchor)
        self.source_edit.setTextCursor(cursor)
        self.source_edit.ensureCursorVisible()
        self.source_edit.setFocus()

    def _translate_dropped_file(self) -> None:
        path, self._dropped_file = self._dropped_file, ""
        if path:
            self.fileChosen.emit(path)

    def _on_model_choice(self, index: int) -> None:
        if index == 0:
            self.modelChosen.emit("")
            return
        path, _ = QFileDialog.getOpenFileName(
            self, "Choose a model for translation", "", MODEL_FILTER
        )
        if path:
            self.modelChosen.emit(path)
        else:  # dialog closed: keep showing what is in use
            self.model_choice.setCurrentIndex(1 if self._own_model else 0)


def _append(edit: QPlainTextEdit, text: str) -> None:
    """Add streamed text at the very end, wherever the user's cursor is."""
    cursor = QTextCursor(edit.document())
    cursor.movePosition(QTextCursor.MoveOperation.End)
    cursor.insertText(text)


def _replace_undoable(edit: QPlainTextEdit, text: str) -> None:
    """Replace the whole text as one edit, so Ctrl+Z brings back what the user had typed
    (setPlainText would drop the undo history)."""
    cursor = QTextCursor(edit.document())
    cursor.select(QTextCursor.SelectionType.Document)
    cursor.insertText(text)
    cursor.movePosition(QTextCursor.MoveOperation.Start)
    edit.setTextCursor(cursor)
