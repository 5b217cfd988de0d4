"""About Hearth (Help menu; issue 15): versions, the llama.cpp build, the data paths, this
machine, and "Copy diagnostics" for a bug report. The presenter (app/gui/about.py) gathers
the facts; this dialog only shows them. GUI thread only.

Signals: ``copyRequested()`` ("Copy diagnostics" clicked), ``openFolderRequested()``.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QPushButton,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

# (section title, ((label, value), ...)), in the order shown.
Sections = Sequence[tuple[str, Sequence[tuple[str, str]]]]
COPIED_VISIBLE_MS = 4000


class AboutDialog(QDialog):
    copyRequested = Signal()
    openFolderRequested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("About Hearth")
        self.resize(640, 560)
        self.heading = QLabel(self)
        self.heading.setTextFormat(Qt.TextFormat.RichText)
        self.heading.setWordWrap(True)
        self.details = QTextBrowser(self)
        self.details.setOpenLinks(False)
        self.details.setAccessibleName("Versions and paths")
        self.copied_label = QLabel(self)
        self.copied_label.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        self.copy_button = QPushButton("&Copy diagnostics", self)
        self.copy_button.setToolTip(
            "Versions, paths, operating system, CPU and RAM, as text for a bug report. "
            "Nothing from your chats."
        )
        self.open_folder_button = QPushButton("&Open data folder", self)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.addButton(self.copy_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.addButton(self.open_folder_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.hide)
        layout = QVBoxLayout(self)
        layout.addWidget(self.heading)
        layout.addWidget(self.details, 1)
        layout.addWidget(self.copied_label)
        layout.addWidget(buttons)
        self._copied_timer = QTimer(self, singleShot=True, interval=COPIED_VISIBLE_MS)
        self._copied_timer.timeout.connect(self.copied_label.clear)
        self.copy_button.clicked.connect(self.copyRequested)
        self.open_folder_button.clicked.connect(self.openFolderRequested)

    def show_about(self, version: str, sections: Sections) -> None:
        self.heading.setText(
            f"<h2>Hearth {escape(version)}</h2>"
            "<p>A private desktop chat and document assistant that runs language models on "
            "your own computer.</p>"
        )
        parts: list[str] = []
        for title, rows in sections:
            parts.append(f"<h4>{escape(title)}</h4><table cellspacing='0' cellpadding='2'>")
            parts.extend(
                f"<tr><td style='padding-right:12px'><b>{escape(label)}</b></td>"
                f"<td>{escape(value)}</td></tr>"
                for label, value in rows
            )
            parts.append("</table>")
        self.details.setHtml("".join(parts))

    def show_copied(self, text: str) -> None:
        """Feedback beside the buttons for a while (e.g. "Copied to the clipboard.")."""
        self.copied_label.setText(text)
        self._copied_timer.start()
