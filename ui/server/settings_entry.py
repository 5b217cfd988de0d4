"""The API server's line in the Settings dialog (issue 15: one place for every setting): what
the server is doing, and the button to its own dialog, where it is switched and configured
(issue 14). Passive."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QWidget

OFF_TEXT = "Off. Other programs on this computer can use the loaded model when it is on."


class ServerSettingsEntry(QWidget):
    openRequested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.status_label = QLabel(OFF_TEXT, self)
        self.status_label.setWordWrap(True)
        self.open_button = QPushButton("API server…", self)
        self.open_button.clicked.connect(self.openRequested)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.status_label, 1)
        layout.addWidget(self.open_button)

    def show_status(self, running: str) -> None:
        """`running`: the status bar's words while the server runs ("API: 127.0.0.1:8080"),
        "" while it is off."""
        self.status_label.setText(f"On: {running.removeprefix('API: ')}" if running else OFF_TEXT)
