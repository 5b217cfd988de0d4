"""How the Translate page's widgets are laid out. GUI thread only.

The base class of `TranslationPanel` (ui/translation/panel.py), which creates the widgets
named below and has ``_set_busy_buttons``."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QSplitter,
    QTabWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from ui.translation.glossary import GlossaryEditor
from ui.translation.history import TranslationHistory
from ui.widgets.eliding_label import ElidingLabel
from ui.widgets.language_combo import LanguageCombo
from ui.widgets.message_bar import MessageBar


class PanelLayout(QWidget):
    source_language: LanguageCombo
    target_language: LanguageCombo
    detect_button: QPushButton
    detected_label: QLabel
    swap_button: QToolButton
    model_choice: QComboBox
    model_label: QLabel
    source_edit: QPlainTextEdit
    translation_edit: QPlainTextEdit
    back_edit: QPlainTextEdit
    translate_button: QPushButton
    cancel_button: QPushButton
    copy_button: QPushButton
    clear_button: QPushButton
    back_check: QCheckBox
    file_button: QPushButton
    progress: QProgressBar
    status_label: ElidingLabel
    flags_label: QLabel
    flags_list: QListWidget
    message_bar: MessageBar
    file_bar: MessageBar
    glossary: GlossaryEditor
    history: TranslationHistory

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
        # The status on a line of its own, as wide as the page: a job's progress ("Translating:
        # 3 of 12 segments, about 1 min left · reading the prompt: 2,400 of 8,000 tokens, about
        # 3 s left") fits on one line, elided beyond it; beside the buttons it wrapped to four
        # lines and the editors above jumped with every update. The bar keeps its room when
        # hidden, so the line's height never changes.
        status = QHBoxLayout()
        status.addWidget(self.status_label, 1)
        status.addWidget(self.progress)
        kept = self.progress.sizePolicy()
        kept.setRetainSizeWhenHidden(True)
        self.progress.setSizePolicy(kept)

        top = QWidget(self)
        top_layout = QVBoxLayout(top)
        top_layout.setContentsMargins(0, 0, 0, 0)
        top_layout.addLayout(languages)
        top_layout.addWidget(self.editors, 1)
        top_layout.addLayout(actions)
        top_layout.addLayout(status)
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
