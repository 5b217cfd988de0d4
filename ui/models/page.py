"""The Models page: installed models (use, details, import, scan other apps' folders), the
selected model's settings and memory fit, what the loaded model really got, and the Hugging
Face download tab. GUI thread only.

It lays out widgets and forwards what the user does as ``...Requested`` signals; the app's
ModelsController does the work and calls the methods below.

Signals: ``useRequested(path)``, ``detailsRequested(path)``, ``removeRequested(path)``,
``deleteRequested(path)`` (Delete file… pressed), ``deleteConfirmed(path)`` (the user said yes
in the dialog `confirm_delete` opened), ``importRequested(paths)``, ``scanRequested()``,
``addFoundRequested(paths)``, ``benchmarkRequested(path)`` (Benchmark… pressed),
``modelSelected(path)`` ("" when nothing is selected). The settings form (`settings_form`)
and the hub tab (`hub`) have their own signals.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QDragEnterEvent, QDropEvent, QFont
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMessageBox,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from ui.models.connections import ConnectionsPanel
from ui.models.details import MetadataEntry, ModelDetailsDialog
from ui.models.hub_panel import HubPanel
from ui.models.kept_states import KeptStatesLine
from ui.models.loaded_panel import LoadedModelPanel
from ui.models.recommended import RecommendedPanel
from ui.models.rows import FoundRow, InstalledRow
from ui.models.settings_form import ModelSettingsForm
from ui.widgets.message_bar import MessageBar
from ui.widgets.muted_items import mute, show_muted_items

# The quantization is part of a model's name ("Gemma 3 270m · Q4_K_M"), and the folder is in
# the Source cell's tooltip: so every column fits beside the settings at the default size.
COLUMNS = (
    "Name",
    "Architecture",
    "Parameters",
    "Size",
    "Context",
    "Template",
    "Source",
)
SOURCE_COLUMN = COLUMNS.index("Source")
FOUND_COLUMNS = ("Name", "Quantization", "Size", "Found in")
IN_USE_MARK = "● "
EMPTY_HINT = "No models yet. Download one from Hugging Face, or Import… a .gguf file."


def _gguf_paths(event: QDragEnterEvent | QDropEvent) -> list[str]:
    mime = event.mimeData()
    if not mime.hasUrls():
        return []
    return [
        url.toLocalFile()
        for url in mime.urls()
        if url.isLocalFile() and url.toLocalFile().lower().endswith(".gguf")
    ]


def _table(columns: Sequence[str], parent: QWidget) -> QTableWidget:
    table = QTableWidget(0, len(columns), parent)
    table.setHorizontalHeaderLabels(list(columns))
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.verticalHeader().hide()
    table.setWordWrap(False)
    header = table.horizontalHeader()
    header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    header.setStretchLastSection(True)
    return table


class ModelsPage(QWidget):
    useRequested = Signal(str)
    detailsRequested = Signal(str)
    removeRequested = Signal(str)
    deleteRequested = Signal(str)
    deleteConfirmed = Signal(str)
    importRequested = Signal(list)
    scanRequested = Signal()
    addFoundRequested = Signal(list)
    benchmarkRequested = Signal(str)
    modelSelected = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAcceptDrops(True)
        self._rows: list[InstalledRow] = []
        self._found: list[FoundRow] = []
        self.error_bar = MessageBar(parent=self)
        self.info_bar = MessageBar(parent=self)
        self.tabs = QTabWidget(self)
        self.tabs.addTab(self._installed_tab(), "Installed")
        self.recommended = RecommendedPanel(self)  # issue 15: ui/models/recommended.py
        self.tabs.addTab(self.recommended, "Recommended")
        self.hub = HubPanel(self)
        self.tabs.addTab(self.hub, "Download from Hugging Face")
        # Remote OpenAI-compatible servers (issue 14): ui/models/connections.py.
        self.connections = ConnectionsPanel(self)
        self.tabs.addTab(self.connections, "Servers")
        layout = QVBoxLayout(self)
        layout.addWidget(self.error_bar)
        layout.addWidget(self.info_bar)
        layout.addWidget(self.tabs, 1)

    def _installed_tab(self) -> QWidget:
        tab = QWidget(self)
        self.loaded_panel = LoadedModelPanel(tab)
        self.use_button = QPushButton("Use", tab)
        self.use_button.setToolTip("Chat with this model (Enter or double-click)")
        self.details_button = QPushButton("Details…", tab)
        self.remove_button = QPushButton("Remove from list", tab)
        self.remove_button.setToolTip("Forget an imported model; the file stays where it is")
        self.delete_button = QPushButton("Delete file…", tab)
        self.delete_button.setToolTip(
            "Delete a model Hearth downloaded from its models folder, to free disk space"
        )
        self.delete_dialog: QMessageBox | None = None
        self.benchmark_button = QPushButton("Benchmark…", tab)
        self.benchmark_button.setToolTip("Measure this model's prompt and generation speed")
        self.import_button = QPushButton("Import…", tab)
        self.import_button.setToolTip("Use a .gguf file where it is (or drop it on this page)")
        self.scan_button = QPushButton("Scan folders", tab)
        self.scan_button.setToolTip(
            "Find models that Hugging Face tools, LM Studio or GPT4All already downloaded"
        )
        buttons = QHBoxLayout()
        for button in (
            self.use_button,
            self.details_button,
            self.remove_button,
            self.delete_button,
            self.benchmark_button,
        ):
            buttons.addWidget(button)
        buttons.addStretch(1)
        buttons.addWidget(self.import_button)
        buttons.addWidget(self.scan_button)
        self.table = _table(COLUMNS, tab)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        show_muted_items(self.table)  # unusable ones grey in the palette of the moment
        # The name takes the room the other columns leave, shortened in the middle when
        # it must be (its tooltip has it whole), so no column is pushed out of sight.
        self.table.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        header = self.table.horizontalHeader()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.empty_label = QLabel(EMPTY_HINT, tab)
        self.empty_label.setWordWrap(True)

        self.found_box = QWidget(tab)
        self.found_title = QLabel(self.found_box)
        self.found_title.setWordWrap(True)
        self.found_table = _table(FOUND_COLUMNS, self.found_box)
        self.found_table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.add_found_button = QPushButton("Add selected", self.found_box)
        self.close_found_button = QPushButton("Close", self.found_box)
        found_buttons = QHBoxLayout()
        found_buttons.addStretch(1)
        found_buttons.addWidget(self.add_found_button)
        found_buttons.addWidget(self.close_found_button)
        found_layout = QVBoxLayout(self.found_box)
        found_layout.setContentsMargins(0, 0, 0, 0)
        found_layout.addWidget(self.found_title)
        found_layout.addWidget(self.found_table, 1)
        found_layout.addLayout(found_buttons)
        self.found_box.hide()

        left = QWidget(tab)
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addLayout(buttons)
        left_layout.addWidget(self.empty_label)
        left_layout.addWidget(self.table, 2)
        left_layout.addWidget(self.found_box, 1)
        self.settings_form = ModelSettingsForm(tab)
        splitter = QSplitter(Qt.Orientation.Horizontal, tab)
        splitter.addWidget(left)
        splitter.addWidget(self.settings_form)
        splitter.setSizes([620, 460])
        splitter.setChildrenCollapsible(False)
        layout = QVBoxLayout(tab)
        layout.addWidget(self.loaded_panel)
        layout.addWidget(splitter, 1)
        self.kept_states = KeptStatesLine(tab)  # issue 13: the disk kept chats' states take
        layout.addWidget(self.kept_states)

        self.table.itemSelectionChanged.connect(self._on_selection)
        self.table.itemDoubleClicked.connect(lambda _item: self._use())
        self.table.activated.connect(lambda _index: self._use())
        self.use_button.clicked.connect(self._use)
        self.details_button.clicked.connect(self._details)
        self.benchmark_button.clicked.connect(self._benchmark)
        self.remove_button.clicked.connect(self._remove)
        self.delete_button.clicked.connect(self._delete)
        self.import_button.clicked.connect(self._choose_import)
        self.scan_button.clicked.connect(self.scanRequested)
        self.add_found_button.clicked.connect(self._add_found)
        self.close_found_button.clicked.connect(self.found_box.hide)
        self._on_selection()
        return tab

    # ---- API for the controller -----------------------------------------------------------

    def show_installed(self, rows: Sequence[InstalledRow]) -> None:
        """Replace the table, keeping the selected model selected."""
        selected = self.selected_path()
        self._rows = list(rows)
        self.table.blockSignals(True)
        self.table.setRowCount(len(rows))
        bold = QFont(self.table.font())
        bold.setBold(True)
        for r, row in enumerate(rows):
            name = (IN_USE_MARK if row.in_use else "") + row.name
            texts = (
                name,
                row.architecture,
                row.parameters,
                row.size,
                row.context,
                "yes" if row.has_template else "no",
                row.source,
            )
            for c, text in enumerate(texts):
                item = QTableWidgetItem(text)
                if row.error:
                    item.setToolTip(f"This model cannot be used: {row.error}")
                    mute(item)
                elif c == 0:
                    item.setToolTip(("In use. " if row.in_use else "") + row.path)
                elif c == SOURCE_COLUMN:
                    item.setToolTip(f"{row.location}\n{row.path}")
                if row.in_use:
                    item.setFont(bold)
                self.table.setItem(r, c, item)
            if row.error:
                self.table.item(r, 1).setText("unusable")
        self.table.blockSignals(False)
        self.empty_label.setVisible(not rows)
        self.select_path(selected)
        self._on_selection()

    def select_path(self, path: str) -> None:
        for r, row in enumerate(self._rows):
            if row.path == path:
                self.table.selectRow(r)
                return

    def selected_path(self) -> str:
        row = self._selected_row()
        return row.path if row else ""

    def rows(self) -> list[InstalledRow]:
        return list(self._rows)

    def show_found(self, rows: Sequence[FoundRow], title: str) -> None:
        self._found = list(rows)
        self.found_title.setText(title)
        self.found_table.setRowCount(len(rows))
        for r, row in enumerate(rows):
            for c, text in enumerate((row.name, row.quantization, row.size, row.found_in)):
                item = QTableWidgetItem(text)
                item.setToolTip(row.path)
                self.found_table.setItem(r, c, item)
        self.found_table.selectAll()
        self.found_table.setVisible(bool(rows))
        self.add_found_button.setVisible(bool(rows))
        self.found_box.show()

    def show_error(self, text: str) -> None:
        self.info_bar.dismiss()
        self.error_bar.show_message(text)

    def show_info(self, text: str) -> None:
        self.error_bar.dismiss()
        self.info_bar.show_message(text, timeout_ms=8000)

    def set_busy(self, busy: bool) -> None:
        """While a scan or import runs the buttons that start another are disabled."""
        self.import_button.setEnabled(not busy)
        self.scan_button.setEnabled(not busy)
        self.add_found_button.setEnabled(not busy)

    def confirm_delete(self, path: str, what: str, where: str) -> QMessageBox:
        """Ask before deleting `what` (file name and size); "Delete" emits deleteConfirmed.
        The dialog is window-modal but does not block the event loop."""
        box = QMessageBox(self)
        box.setIcon(QMessageBox.Icon.Warning)
        box.setWindowTitle("Delete model file")
        box.setText(f"Delete {what}?")
        box.setInformativeText(f"The file is deleted from disk ({where}). This cannot be undone.")
        delete = box.addButton("Delete", QMessageBox.ButtonRole.DestructiveRole)
        box.setDefaultButton(box.addButton(QMessageBox.StandardButton.Cancel))
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)

        def answered(button: QAbstractButton) -> None:
            if button is delete:
                self.deleteConfirmed.emit(path)

        def closed() -> None:
            if self.delete_dialog is box:
                self.delete_dialog = None

        box.buttonClicked.connect(answered)
        box.finished.connect(closed)
        self.delete_dialog = box
        box.open()
        return box

    def open_details(
        self, title: str, summary: str, entries: Sequence[MetadataEntry]
    ) -> ModelDetailsDialog:
        dialog = ModelDetailsDialog(title, summary, entries, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.show()
        return dialog

    # ---- drag and drop ----------------------------------------------------------------------

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if _gguf_paths(event):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event: QDropEvent) -> None:
        paths = _gguf_paths(event)
        if paths:
            event.acceptProposedAction()
            self.tabs.setCurrentIndex(0)
            self.importRequested.emit(paths)

    # ---- internals -------------------------------------------------------------------------

    def _selected_row(self) -> InstalledRow | None:
        rows = self.table.selectionModel().selectedRows()
        if not rows or rows[0].row() >= len(self._rows):
            return None
        return self._rows[rows[0].row()]

    def _on_selection(self) -> None:
        row = self._selected_row()
        usable = row is not None and not row.error
        self.use_button.setEnabled(usable and not row.in_use)
        self.details_button.setEnabled(usable)
        self.benchmark_button.setEnabled(usable)
        self.remove_button.setEnabled(row is not None and row.removable)
        self.delete_button.setEnabled(row is not None and row.deletable)
        self.modelSelected.emit(row.path if row else "")

    def _use(self) -> None:
        row = self._selected_row()
        if row is not None and not row.error and not row.in_use:
            self.useRequested.emit(row.path)

    def _details(self) -> None:
        row = self._selected_row()
        if row is not None and not row.error:
            self.detailsRequested.emit(row.path)

    def _benchmark(self) -> None:
        row = self._selected_row()
        if row is not None and not row.error:
            self.benchmarkRequested.emit(row.path)

    def _remove(self) -> None:
        row = self._selected_row()
        if row is not None and row.removable:
            self.removeRequested.emit(row.path)

    def _delete(self) -> None:
        row = self._selected_row()
        if row is not None and row.deletable:
            self.deleteRequested.emit(row.path)

    def _choose_import(self) -> None:
        paths, _ = QFileDialog.getOpenFileNames(
            self, "Import GGUF models", "", "GGUF models (*.gguf);;All files (*)"
        )
        if paths:
            self.importRequested.emit(paths)

    def _add_found(self) -> None:
        rows = {index.row() for index in self.found_table.selectionModel().selectedRows()}
        paths = [self._found[r].path for r in sorted(rows) if r < len(self._found)]
        if paths:
            self.addFoundRequested.emit(paths)
