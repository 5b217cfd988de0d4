"""The Documents page: opened documents, summary options, progress, the summary and its
sources. GUI thread only.

Like the main window it only lays out widgets and forwards what the user does as
``...Requested`` signals; the app's DocumentsController calls the methods below.

Signals:
``openRequested(paths)``, ``summarizeRequested(path, (length, style, language))`` where
length is "short" | "medium" | "long" or a word target (int) and language "auto" means
the document's own, ``cancelRequested()``,
``citationClicked(index)``, ``exportRequested(path)``, ``discussRequested()``,
``documentSelected(path)`` (one row selected), ``optionsChanged()``,
``removeRequested(paths, delete_summaries)`` (Delete or the list's context menu, after the
user confirmed; the files on disk are never touched), ``ocrRequested()`` (the message's
Run OCR button, see `offer_ocr`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from PySide6.QtCore import QEvent, QItemSelectionModel, Qt, QUrl, Signal
from PySide6.QtGui import (
    QDragEnterEvent,
    QDropEvent,
    QFont,
    QPalette,
    QTextCharFormat,
    QTextCursor,
)
from PySide6.QtWidgets import QFileDialog, QMessageBox, QTableWidgetItem, QWidget

from ui.documents.page_layout import EMPTY_HINT, DocumentsPageLayout
from ui.documents.rows import CITE_SCHEME, DocumentRow
from ui.documents.summary_text import summary_html
from ui.documents.table_cells import NUMERIC_COLUMNS, cells, tooltip

RUNNING_HINT = (
    "Summarizing… each part's summary appears here when it is done, then the final summary."
)
FINAL_HEADING = "Final summary"
NO_CHUNK_TEXT = "(nothing usable: the model wrote no summary of this part)"
NO_SUMMARY_HINT = "No summary with these options yet: press Summarize."
# How long the bar shows how a batch ended ("All 3 summaries finished") before it goes; the
# rows keep saying Done or Cancelled, so a stale bar would only mislead about the next one.
PROGRESS_LINGER_MS = 6000
REMOVE_KEEP = "Remove, keep summaries"
REMOVE_DELETE = "Remove and delete summaries"


class DocumentsPage(DocumentsPageLayout):
    openRequested = Signal(list)  # list[str] paths
    summarizeRequested = Signal(str, object)  # path, (length, style, language)
    cancelRequested = Signal()
    citationClicked = Signal(int)
    exportRequested = Signal(str)
    discussRequested = Signal()
    documentSelected = Signal(str)
    optionsChanged = Signal()
    removeRequested = Signal(list, bool)  # list[str] paths, delete their summaries too
    ocrRequested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAcceptDrops(True)
        self._rows: list[DocumentRow] = []
        self._busy = False
        self._has_summary = False
        self._chunks_shown = False  # chunk summaries of the running job are in the view
        self._final_begun = False  # its final pass has begun streaming below them
        self._extensions: tuple[str, ...] = ()
        self._export_name = "summary.md"
        # The finished summary shown and the palette it was rendered for: its code colours
        # are baked into the HTML, so a theme change renders it again (changeEvent).
        self._summary: tuple[str, bool] | None = None
        self._build()
        self._connect()
        self._update_buttons()

    def _connect(self) -> None:
        self.open_button.clicked.connect(self._on_open)
        self.length_combo.currentIndexChanged.connect(self._on_length_changed)
        self.words_spin.valueChanged.connect(self.optionsChanged)
        self.style_combo.currentIndexChanged.connect(self.optionsChanged)
        self.language_combo.currentIndexChanged.connect(self.optionsChanged)
        self.summarize_button.clicked.connect(self._on_summarize)
        self.cancel_button.clicked.connect(self.cancelRequested)
        self.summary_view.anchorClicked.connect(self._on_anchor)
        self.export_button.clicked.connect(self._on_export)
        self.discuss_button.clicked.connect(self.discussRequested)
        self.table.itemSelectionChanged.connect(self._on_selection)
        self.remove_action.triggered.connect(self._on_remove)
        self.error_bar.actionTriggered.connect(self.ocrRequested)

    # ---- API for the app controller ------------------------------------------------------

    def set_extensions(self, extensions: Sequence[str]) -> None:
        """The file types the Open dialog offers (".pdf", ".docx", …)."""
        self._extensions = tuple(extensions)

    def set_languages(self, languages: Sequence[tuple[str, str]], same_as_document: str) -> None:
        """(code, label) pairs for the output-language combo, after "Same as document" (sent
        as `same_as_document`: the app's code for it, chosen until the user picks another);
        keeps the current choice if it is still offered."""
        current = self.language_combo.currentData()
        self.language_combo.blockSignals(True)
        self.language_combo.clear()
        self.language_combo.addItem("Same as document", same_as_document)
        for code, label in languages:
            self.language_combo.addItem(label, code)
        index = self.language_combo.findData(current) if current is not None else 0
        self.language_combo.setCurrentIndex(max(0, index))
        self.language_combo.blockSignals(False)

    def set_documents(self, rows: Sequence[DocumentRow]) -> None:
        """Show `rows`; the selection follows the paths it had."""
        selected = set(self.selected_paths())
        self._rows = list(rows)
        table = self.table
        table.blockSignals(True)
        table.setRowCount(len(self._rows))
        for row, document in enumerate(self._rows):
            for column, text in enumerate(cells(document)):
                item = QTableWidgetItem(text)
                item.setToolTip(tooltip(document, column, text))
                if column in NUMERIC_COLUMNS:
                    item.setTextAlignment(
                        Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
                    )
                table.setItem(row, column, item)
        table.clearSelection()
        for row, document in enumerate(self._rows):
            if document.path in selected:
                table.selectionModel().select(
                    table.model().index(row, 0),
                    QItemSelectionModel.SelectionFlag.Select
                    | QItemSelectionModel.SelectionFlag.Rows,
                )
        table.blockSignals(False)
        self._update_buttons()

    def rows(self) -> list[DocumentRow]:
        return list(self._rows)

    def select_document(self, path: str) -> None:
        for row, document in enumerate(self._rows):
            if document.path == path:
                self.table.clearSelection()
                self.table.selectRow(row)
                return

    def row_of(self, path: str) -> int:
        """The table row showing `path`, or -1."""
        for row, document in enumerate(self._rows):
            if document.path == path:
                return row
        return -1

    def selected_paths(self) -> list[str]:
        rows = sorted({index.row() for index in self.table.selectedIndexes()})
        return [self._rows[r].path for r in rows if r < len(self._rows)]

    def options(self) -> tuple[str | int, str, str]:
        """(length, style, language) as the user chose them."""
        length = self.length_combo.currentData()
        if length == "words":
            length = self.words_spin.value()
        return length, self.style_combo.currentData(), self.language_combo.currentData()

    def set_summary_title(self, title: str) -> None:
        self.summary_title.setText(f"Summary · {title}" if title else "Summary")
        stem = re.sub(r'[\\/:*?"<>|\s]+', " ", title).strip()[:80]
        self._export_name = f"{stem or 'summary'} - summary.md"

    def begin_summary(self) -> None:
        """Clear the view; the final pass streams in next."""
        self._summary = None
        self.summary_view.clear()
        self.summary_view.setPlaceholderText(RUNNING_HINT)
        self._has_summary = False
        self._chunks_shown = False
        self._final_begun = False
        self.show_passage("")
        self._update_buttons()

    def append_chunk_summary(self, heading: str, text: str) -> None:
        """A chunk's summary, as soon as it is done, under its `heading` ("Part 2 of 7 ·
        p. 4–6"); the final pass streams in below them."""
        self._insert(heading, bold=True)
        self._insert("\n" + (text.strip() or NO_CHUNK_TEXT) + "\n\n")
        self._chunks_shown = True

    def append_summary(self, delta: str) -> None:
        """Append streamed text of the final pass at the end (plain text until the summary
        is finished), under a heading when chunk summaries stand above it."""
        if self._chunks_shown and not self._final_begun:
            self._insert(FINAL_HEADING, bold=True)
            self._insert("\n")
        self._final_begun = True
        self._insert(delta)

    def _insert(self, text: str, *, bold: bool = False) -> None:
        view = self.summary_view
        bar = view.verticalScrollBar()
        at_end = bar.value() >= bar.maximum() - 4
        cursor = QTextCursor(view.document())
        cursor.movePosition(QTextCursor.MoveOperation.End)
        char_format = QTextCharFormat()
        char_format.setFontWeight(QFont.Weight.Bold if bold else QFont.Weight.Normal)
        cursor.insertText(text, char_format)
        if at_end:
            bar.setValue(bar.maximum())

    def finish_summary(self, markdown_with_citations: str) -> None:
        """The finished summary, rendered: citations ``[p. 3](hearth-cite:N)`` are links."""
        dark = self.palette().color(QPalette.ColorRole.Base).lightness() < 128
        self._summary = (markdown_with_citations, dark)
        self.summary_view.setHtml(summary_html(markdown_with_citations, dark=dark))
        self._has_summary = bool(markdown_with_citations.strip())
        self._update_buttons()

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        dark = self.palette().color(QPalette.ColorRole.Base).lightness() < 128
        if event.type() == QEvent.Type.PaletteChange and self._summary and self._summary[1] != dark:
            bar = self.summary_view.verticalScrollBar()
            value = bar.value()  # the reader stays where they were
            self.finish_summary(self._summary[0])
            bar.setValue(value)

    def clear_summary(self, title: str = "") -> None:
        """An empty view; with a `title` it says that document has no summary yet."""
        self._summary = None
        self.summary_view.clear()
        self.summary_view.setPlaceholderText(NO_SUMMARY_HINT if title else EMPTY_HINT)
        self.set_summary_title(title)
        self._has_summary = False
        self.show_passage("")
        self._update_buttons()

    def show_progress(self, fraction: float, text: str) -> None:
        """The job's progress bar: `fraction` of 0..1 and a line such as
        "Report (1 of 2) · chunk 3 of 12 · … · about 40 s left"."""
        self._progress_linger.stop()
        self.progress.setRange(0, 1000)
        self.progress.setValue(round(max(0.0, min(1.0, fraction)) * 1000))
        self._progress_format = f"{round(fraction * 100)}% · {text}" if text else "%p%"
        self.progress.setFormat(self._progress_format)
        self.progress.show()

    def show_paused(self, paused: bool) -> None:
        """While the running summary waits for a chat reply, its bar says so (the time left
        is then longer than shown); the next progress report replaces the note."""
        if self.progress.isHidden():
            return
        note = " · paused: a chat reply goes first"
        self.progress.setFormat(self._progress_format + (note if paused else ""))

    def show_reading(self, text: str) -> None:
        """The running job's engine reading a long prompt ("reading the prompt: 3,200 of
        8,000 tokens"; "" when done), after the bar's line until the next progress report."""
        if not self.progress.isHidden():
            self.progress.setFormat(self._progress_format + (f" · {text}" if text else ""))

    def finish_progress(self, fraction: float, text: str) -> None:
        """How the jobs ended ("Summary finished", "Cancelled; …"), shown for a few seconds;
        then the bar goes until the next job."""
        self.show_progress(fraction, text)
        self._progress_linger.start(PROGRESS_LINGER_MS)

    def show_passage(self, text: str, label: str = "") -> None:
        """The source passage of a clicked citation, in the side panel."""
        self.passage_title.setText(f"Source passage · {label}" if label else "Source passage")
        self.passage_view.setPlainText(text)

    def show_error(self, text: str) -> None:
        self.error_bar.action_button.hide()
        self.error_bar.show_message(text)

    def show_notice(self, text: str) -> None:
        """A message that goes away by itself ("Summary saved to …")."""
        self.error_bar.action_button.hide()
        self.error_bar.show_message(text, timeout_ms=5000)

    def offer_ocr(self, text: str) -> None:
        """`text` (a scanned PDF's message) with a Run OCR button: ``ocrRequested``."""
        self.error_bar.action_button.show()
        self.error_bar.show_message(text)

    def hide_error(self) -> None:
        self.error_bar.dismiss()

    def set_busy(self, busy: bool) -> None:
        """While jobs run Cancel is enabled and the progress bar is up (see finish_progress
        for afterwards)."""
        self._busy = busy
        if busy:
            self._progress_linger.stop()
        if busy and self.progress.isHidden():
            self.progress.setRange(0, 0)  # busy until the first report
            self.progress.setFormat("starting…")
            self.progress.show()
        self._update_buttons()

    # ---- user actions --------------------------------------------------------------------

    def _update_buttons(self) -> None:
        self.summarize_button.setEnabled(bool(self.selected_paths()))
        self.remove_action.setEnabled(bool(self.selected_paths()))
        self.cancel_button.setEnabled(self._busy)
        self.export_button.setEnabled(self._has_summary)
        self.discuss_button.setEnabled(self._has_summary)

    def _on_length_changed(self) -> None:
        self.words_spin.setEnabled(self.length_combo.currentData() == "words")
        self.optionsChanged.emit()

    def _on_open(self) -> None:
        patterns = " ".join(f"*{e}" for e in self._extensions) or "*"
        paths, _ = QFileDialog.getOpenFileNames(
            self, "Open documents", "", f"Documents ({patterns});;All files (*)"
        )
        if paths:
            self.openRequested.emit(list(paths))

    def _on_summarize(self) -> None:
        options = self.options()
        for path in self.selected_paths():
            self.summarizeRequested.emit(path, options)

    def _on_selection(self) -> None:
        self._update_buttons()
        paths = self.selected_paths()
        if len(paths) == 1:
            self.documentSelected.emit(paths[0])

    def _on_remove(self) -> None:
        paths = self.selected_paths()
        if not paths:
            return
        rows = [row for row in self._rows if row.path in paths]
        if len(rows) == 1:
            question = f"Remove “{rows[0].title}” from the library?"
        else:
            question = f"Remove {len(rows)} documents from the library?"
        details = [
            "The files on disk are not touched.",
            f"“{REMOVE_KEEP}” keeps what was summarized, so opening the same file again "
            "shows its summaries at once and resumes unfinished ones.",
        ]
        if any(row.summary_busy for row in rows):
            details.append("A summary that is queued or running is cancelled first.")
        box = QMessageBox(QMessageBox.Icon.Question, "Remove documents", question, parent=self)
        box.setInformativeText("\n\n".join(details))
        keep = box.addButton(REMOVE_KEEP, QMessageBox.ButtonRole.AcceptRole)
        delete = box.addButton(REMOVE_DELETE, QMessageBox.ButtonRole.DestructiveRole)
        box.addButton(QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(keep)
        box.exec()
        clicked = box.clickedButton()
        if clicked in (keep, delete):
            self.removeRequested.emit(paths, clicked is delete)

    def _on_anchor(self, url: QUrl) -> None:
        if url.scheme() == CITE_SCHEME and url.path().isdigit():
            self.citationClicked.emit(int(url.path()))

    def _on_export(self) -> None:
        path, _ = QFileDialog.getSaveFileName(
            self, "Export summary as Markdown", self._export_name, "Markdown (*.md);;All files (*)"
        )
        if path:
            self.exportRequested.emit(path)

    # ---- drag and drop -------------------------------------------------------------------

    @staticmethod
    def _local_paths(event: QDragEnterEvent | QDropEvent) -> list[str]:
        mime = event.mimeData()
        if mime is None or not mime.hasUrls():
            return []
        return [url.toLocalFile() for url in mime.urls() if url.isLocalFile()]

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if self._local_paths(event):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event: QDropEvent) -> None:
        paths = self._local_paths(event)
        if paths:
            event.acceptProposedAction()
            self.openRequested.emit(paths)
        else:
            event.ignore()
