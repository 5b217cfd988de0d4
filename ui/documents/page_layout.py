"""The Documents page's widgets and how they are laid out. GUI thread only.

`DocumentsPage` (ui/documents/page.py, its signals and behaviour) builds itself with
the `_build` it inherits from here."""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSpinBox,
    QSplitter,
    QTableWidget,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from ui.documents.labelled_bar import LabelledBar
from ui.documents.rows import LENGTHS, STYLES
from ui.documents.table_cells import COLUMNS
from ui.widgets.message_bar import MessageBar

PASSAGE_HINT = "Click a citation such as [p. 3] to see its passage."
EMPTY_HINT = "Open a document (Open… or drag files here), choose the options and Summarize."


class DocumentsPageLayout(QWidget):
    """The widgets `DocumentsPage` works with, created and laid out by `_build`."""

    def _build(self) -> None:
        self.open_button = QPushButton("Open…", self)
        self.open_button.setToolTip("Open documents (or drag files onto this page)")
        self.table = QTableWidget(0, len(COLUMNS), self)
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        self.table.setTextElideMode(Qt.TextElideMode.ElideRight)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for column in range(1, len(COLUMNS) - 1):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        # A long error stays readable in the tooltip; the title keeps the room it needs.
        header.setSectionResizeMode(len(COLUMNS) - 1, QHeaderView.ResizeMode.Interactive)
        header.resizeSection(len(COLUMNS) - 1, 320)
        self.table.setAcceptDrops(False)
        # The list's context menu is its actions; Delete triggers the same one.
        self.remove_action = QAction("Remove from library…", self.table)
        self.remove_action.setShortcut(QKeySequence(QKeySequence.StandardKey.Delete))
        self.remove_action.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
        self.remove_action.setToolTip("Take the selected documents off the list (not off the disk)")
        self.table.addAction(self.remove_action)
        self.table.setContextMenuPolicy(Qt.ContextMenuPolicy.ActionsContextMenu)

        self.length_combo = QComboBox(self)
        for value, label in LENGTHS:
            self.length_combo.addItem(label, value)
        self.length_combo.setCurrentIndex(1)
        self.words_spin = QSpinBox(self)
        self.words_spin.setRange(10, 5000)
        self.words_spin.setSingleStep(50)
        self.words_spin.setValue(300)
        self.words_spin.setSuffix(" words")
        self.words_spin.setEnabled(False)
        self.style_combo = QComboBox(self)
        for value, label in STYLES:
            self.style_combo.addItem(label, value)
        self.language_combo = QComboBox(self)
        # Filled by set_languages, with the app's code for "Same as document".
        self.language_combo.setToolTip("The language the summary is written in")

        self.summarize_button = QPushButton("Summarize", self)
        self.summarize_button.setToolTip("Summarize the selected documents, one after another")
        self.cancel_button = QPushButton("Cancel", self)
        self.cancel_button.setToolTip("Stop summarizing; finished parts are kept")

        options = QHBoxLayout()
        options.addWidget(QLabel("Length:", self))
        options.addWidget(self.length_combo)
        options.addWidget(self.words_spin)
        options.addSpacing(12)
        options.addWidget(QLabel("Style:", self))
        options.addWidget(self.style_combo)
        options.addSpacing(12)
        options.addWidget(QLabel("Language:", self))
        options.addWidget(self.language_combo)
        options.addStretch(1)
        options.addWidget(self.summarize_button)
        options.addWidget(self.cancel_button)

        self.progress = LabelledBar(self)
        self.progress_label = self.progress.label
        self._progress_format = "%p%"
        self.progress.hide()
        self._progress_linger = QTimer(self)
        self._progress_linger.setSingleShot(True)
        self._progress_linger.timeout.connect(self.progress.hide)
        self.error_bar = MessageBar("Run OCR", parent=self)
        self.error_bar.action_button.hide()  # only with a scanned PDF: offer_ocr

        self.summary_title = QLabel("Summary", self)
        font = self.summary_title.font()
        font.setBold(True)
        self.summary_title.setFont(font)
        self.summary_view = QTextBrowser(self)
        self.summary_view.setOpenLinks(False)
        self.summary_view.setOpenExternalLinks(False)
        self.summary_view.setAcceptDrops(False)
        self.summary_view.setPlaceholderText(EMPTY_HINT)
        self.export_button = QPushButton("Export Markdown…", self)
        self.discuss_button = QPushButton("Discuss in chat", self)
        summary_box = QWidget(self)
        summary_layout = QVBoxLayout(summary_box)
        summary_layout.setContentsMargins(0, 0, 0, 0)
        summary_layout.addWidget(self.summary_title)
        summary_layout.addWidget(self.summary_view, 1)
        actions = QHBoxLayout()
        actions.addStretch(1)
        actions.addWidget(self.export_button)
        actions.addWidget(self.discuss_button)
        summary_layout.addLayout(actions)

        self.passage_title = QLabel("Source passage", self)
        self.passage_title.setFont(font)
        self.passage_view = QTextBrowser(self)
        self.passage_view.setOpenLinks(False)
        self.passage_view.setAcceptDrops(False)
        self.passage_view.setPlaceholderText(PASSAGE_HINT)
        passage_box = QWidget(self)
        passage_layout = QVBoxLayout(passage_box)
        passage_layout.setContentsMargins(0, 0, 0, 0)
        passage_layout.addWidget(self.passage_title)
        passage_layout.addWidget(self.passage_view, 1)

        lower = QSplitter(Qt.Orientation.Horizontal, self)
        lower.addWidget(summary_box)
        lower.addWidget(passage_box)
        lower.setStretchFactor(0, 3)
        lower.setStretchFactor(1, 2)
        lower.setChildrenCollapsible(False)

        top = QWidget(self)
        top_layout = QVBoxLayout(top)
        top_layout.setContentsMargins(0, 0, 0, 0)
        open_row = QHBoxLayout()
        open_row.addWidget(self.open_button)
        hint = QLabel("or drop files here", self)
        hint.setEnabled(False)
        open_row.addWidget(hint)
        open_row.addStretch(1)
        top_layout.addLayout(open_row)
        top_layout.addWidget(self.table, 1)
        top_layout.addLayout(options)
        progress_row = QHBoxLayout()
        progress_row.addWidget(self.progress)
        progress_row.addWidget(self.progress_label, 1)
        top_layout.addLayout(progress_row)
        top_layout.addWidget(self.error_bar)

        vertical = QSplitter(Qt.Orientation.Vertical, self)
        vertical.addWidget(top)
        vertical.addWidget(lower)
        vertical.setStretchFactor(0, 2)
        vertical.setStretchFactor(1, 3)
        vertical.setChildrenCollapsible(False)
        layout = QVBoxLayout(self)
        layout.addWidget(vertical)
