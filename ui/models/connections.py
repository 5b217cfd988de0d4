"""The Models page's Servers tab (issue 14): remote OpenAI-compatible servers (llama-server,
vLLM, Ollama, LM Studio) whose models the chat can use. A list of connections, a form to add
or edit one (name, address, API key) and what the last test found. Passive: it forwards what
the user does as signals; the connections presenter (app/gui/models/connections.py) checks,
stores and tests. GUI thread only.

Signals: ``saveRequested(name, base_url, api_key, replacing)`` (Add or Save; `replacing`: the
name of the connection edited, "" for a new one; `api_key`: "" keeps the stored one),
``removeRequested(name)``, ``testRequested(base_url, api_key)``, ``connectionSelected(name)``
("" when none is).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ui.widgets.message_bar import MessageBar
from ui.widgets.warning_text import show_warning

COLUMNS = ("Name", "Address", "API key", "Models")
INTRO = (
    "Use models that run on another machine: any server with an OpenAI-compatible API "
    "(llama.cpp's llama-server, vLLM, Ollama, LM Studio). Its models appear in the chat's "
    "model choice. Nothing is sent anywhere until you add a server here."
)


@dataclass(frozen=True)
class ConnectionRow:
    name: str
    base_url: str
    key_stored: bool
    models: str  # "3 models", "not reachable", "…" while asked


class ConnectionsPanel(QWidget):
    saveRequested = Signal(str, str, str, str)
    removeRequested = Signal(str)
    testRequested = Signal(str, str)
    connectionSelected = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._names: list[str] = []
        self._editing = ""  # the connection in the form ("" : a new one)
        intro = QLabel(INTRO, self)
        intro.setWordWrap(True)
        self.warning_bar = MessageBar(parent=self)
        self.table = QTableWidget(0, len(COLUMNS), self)
        self.table.setHorizontalHeaderLabels(list(COLUMNS))
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.verticalHeader().hide()
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        self.table.itemSelectionChanged.connect(self._on_selection)

        self.name_edit = QLineEdit(self)
        self.name_edit.setPlaceholderText("e.g. GPU box")
        self.name_edit.setAccessibleName("Connection name")
        self.url_edit = QLineEdit(self)
        self.url_edit.setPlaceholderText("e.g. http://192.168.1.20:8080 or https://example.org/v1")
        self.url_edit.setAccessibleName("Server address")
        self.key_edit = QLineEdit(self)
        self.key_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.key_edit.setPlaceholderText("optional; kept in the system keyring, never in a file")
        self.key_edit.setAccessibleName("API key")
        form = QFormLayout()
        form.addRow("Name:", self.name_edit)
        form.addRow("Address:", self.url_edit)
        form.addRow("API key:", self.key_edit)

        self.new_button = QPushButton("New", self)
        self.new_button.setToolTip("Clear the form to add another server")
        self.save_button = QPushButton("Add", self)
        self.test_button = QPushButton("Test", self)
        self.test_button.setToolTip("Ask the server for its models (nothing is kept)")
        self.remove_button = QPushButton("Remove", self)
        self.remove_button.setToolTip("Forget this server and its stored API key")
        buttons = QHBoxLayout()
        for button in (self.new_button, self.save_button, self.test_button, self.remove_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        self.new_button.clicked.connect(self.clear_form)
        self.save_button.clicked.connect(self._save)
        self.test_button.clicked.connect(self._test)
        self.remove_button.clicked.connect(self._remove)
        self.url_edit.returnPressed.connect(self._save)

        self.result_label = QLabel(self)
        self.result_label.setWordWrap(True)
        self.result_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.result_label.setAccessibleName("Test result")

        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.warning_bar)
        layout.addWidget(self.table, 1)
        layout.addLayout(form)
        layout.addLayout(buttons)
        layout.addWidget(self.result_label)
        self._update_buttons()

    # ---- what the presenter shows ------------------------------------------------------------

    def show_connections(self, rows: Sequence[ConnectionRow]) -> None:
        self.table.blockSignals(True)
        self.table.setRowCount(len(rows))
        self._names = [row.name for row in rows]
        for i, row in enumerate(rows):
            cells = (row.name, row.base_url, "stored" if row.key_stored else "none", row.models)
            for column, text in enumerate(cells):
                self.table.setItem(i, column, QTableWidgetItem(text))
        selected = self._names.index(self._editing) if self._editing in self._names else -1
        if selected >= 0:
            self.table.selectRow(selected)
        else:
            self.table.clearSelection()
        self.table.blockSignals(False)

    def edit(self, name: str, base_url: str) -> None:
        """Put a connection in the form (the key field stays empty: "" keeps the stored key)."""
        self._editing = name
        self.name_edit.setText(name)
        self.url_edit.setText(base_url)
        self.key_edit.clear()
        self.key_edit.setPlaceholderText("leave empty to keep the stored key (if any)")
        self._update_buttons()

    def clear_form(self) -> None:
        self._editing = ""
        self.table.clearSelection()
        for edit in (self.name_edit, self.url_edit, self.key_edit):
            edit.clear()
        self.key_edit.setPlaceholderText("optional; kept in the system keyring, never in a file")
        self.result_label.clear()
        self._update_buttons()

    def show_result(self, text: str, *, error: bool = False) -> None:
        show_warning(self.result_label, error)  # a red for the palette, after a theme change too
        self.result_label.setText(text)

    def show_warning(self, text: str) -> None:
        self.warning_bar.show_message(text)

    @property
    def editing(self) -> str:
        return self._editing

    # ---- what the user does ------------------------------------------------------------------

    def _update_buttons(self) -> None:
        self.save_button.setText("Save" if self._editing else "Add")
        self.remove_button.setEnabled(bool(self._editing))

    def _on_selection(self) -> None:
        rows = {index.row() for index in self.table.selectedIndexes()}
        name = self._names[min(rows)] if rows else ""
        self.connectionSelected.emit(name)

    def _save(self) -> None:
        self.saveRequested.emit(
            self.name_edit.text(), self.url_edit.text(), self.key_edit.text(), self._editing
        )

    def _test(self) -> None:
        self.testRequested.emit(self.url_edit.text(), self.key_edit.text())

    def _remove(self) -> None:
        if self._editing:
            self.removeRequested.emit(self._editing)
