"""The "API server" dialog (issue 14): Hearth's OpenAI-compatible server switched on and off,
where it listens, its address to copy, and a small log of the requests it answered.

Passive: it forwards the switch as ``switchClicked(on)`` (the user's click only; the presenter
sets the switch back with `set_running`) and the "Keep API conversations as chats" box as
``keepChatsClicked(on)`` (it applies at once, running or not), and shows what the presenter
tells it. The address, port and key can be edited only while the server is off: a change
applies when it is switched on. GUI thread.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from ui.server.request_log import LogRow, RequestLogModel
from ui.widgets.message_bar import MessageBar

OFF = "Off"


class ApiServerDialog(QDialog):
    switchClicked = Signal(bool)
    keepChatsClicked = Signal(bool)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("API server")
        self.resize(820, 520)
        intro = QLabel(
            "Other programs (editors, scripts) can use the model loaded in Hearth through an "
            "OpenAI-compatible API. Their requests wait while you chat; nothing they send is "
            "stored as a chat unless you ask for it below.",
            self,
        )
        intro.setWordWrap(True)
        self.switch = QCheckBox("Serve the loaded model", self)
        self.host = QLineEdit(self)
        self.host.setToolTip(
            "127.0.0.1: this machine only. Any other address lets other machines connect "
            "and needs an API key."
        )
        self.port = QSpinBox(self)
        self.port.setRange(0, 65535)
        self.port.setSpecialValueText("any free port")
        self.key = QLineEdit(self)
        self.key.setEchoMode(QLineEdit.EchoMode.Password)
        self.key.setPlaceholderText("none")
        self.key.setToolTip(
            "Clients send it as 'Authorization: Bearer KEY'. Kept in the system keyring."
        )
        self.keep_chats = QCheckBox("Keep API conversations as chats", self)
        self.keep_chats.setToolTip(
            "Each chat request and its reply are added to your chats, titled 'API · ' and the "
            "first words of the request. Off: API requests leave nothing in your history."
        )
        self.address = QLineEdit(OFF, self)
        self.address.setReadOnly(True)
        self.address.setAccessibleName("Server address")
        self.copy_button = QPushButton("Copy", self)
        self.copy_button.setToolTip("Copy the address for a client's base URL")
        self.copy_button.clicked.connect(self._copy_address)
        self.message = MessageBar(parent=self)
        self.log_model = RequestLogModel(self)
        self.log = QTableView(self)
        self.log.setModel(self.log_model)
        self.log.setAccessibleName("Requests")
        self.log.verticalHeader().hide()
        self.log.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.log.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.log.setAlternatingRowColors(True)
        self.log.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.log.horizontalHeader().setStretchLastSection(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)

        form = QFormLayout()
        form.addRow(self.switch)
        form.addRow("Address to listen on:", self.host)
        form.addRow("Port:", self.port)
        form.addRow("API key:", self.key)
        address_row = QHBoxLayout()
        address_row.addWidget(self.address, 1)
        address_row.addWidget(self.copy_button)
        form.addRow("Base URL:", address_row)
        form.addRow(self.keep_chats)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(form)
        layout.addWidget(self.message)
        layout.addWidget(QLabel("Requests:", self))
        layout.addWidget(self.log, 1)
        layout.addWidget(buttons)
        self.switch.clicked.connect(self.switchClicked)
        self.keep_chats.clicked.connect(self.keepChatsClicked)
        self.set_running(None)

    # ---- the presenter's API ---------------------------------------------------------------

    def set_fields(self, host: str, port: int, key: str) -> None:
        self.host.setText(host)
        self.port.setValue(port)
        self.key.setText(key)

    def set_keep_chats(self, on: bool) -> None:
        self.keep_chats.setChecked(on)

    def fields(self) -> tuple[str, int, str]:
        """host, port, key as typed (stripped)."""
        return self.host.text().strip(), self.port.value(), self.key.text().strip()

    def set_running(self, base_url: str | None) -> None:
        """The server listens at `base_url` (e.g. http://127.0.0.1:8080/v1), or is off (None):
        the switch follows, and the fields are editable only while it is off."""
        running = base_url is not None
        self.switch.setChecked(running)
        self.address.setText(base_url or OFF)
        self.copy_button.setEnabled(running)
        for field in (self.host, self.port, self.key):
            field.setEnabled(not running)

    def show_message(self, text: str) -> None:
        """A plain-words message (why the server could not start), until dismissed."""
        self.message.show_message(text)

    def hide_message(self) -> None:
        self.message.dismiss()

    def add_log_row(self, row: LogRow) -> None:
        self.log_model.add(row)

    def _copy_address(self) -> None:
        QGuiApplication.clipboard().setText(self.address.text())
