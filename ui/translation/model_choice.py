"""The Translate page's model choice: the chat's model, a GGUF for translation only, or a
model on one of the servers connected on the Models page (issue 14), named "model · server"
as in the chat's own list. GUI thread.

Emits ``modelChosen(path)`` ("" means the chat model; a path comes from a file dialog) and
``remoteChosen(connection, model)``; the presenter answers with `show_in_use`.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QComboBox, QFileDialog, QWidget

CHAT_MODEL = "Use the chat model"
OWN_MODEL = "A model for translation only…"
MODEL_FILTER = "GGUF models (*.gguf)"

# Item data: "" the chat's model, OWN a file, else a server's model (connection NUL model;
# a NUL never occurs in a connection's name typed in a line edit nor in a model id).
CHAT = ""
OWN = "\0file"


def _remote_key(connection: str, model: str) -> str:
    return f"{connection}\0{model}"


class TranslationModelChoice(QComboBox):
    modelChosen = Signal(str)
    remoteChosen = Signal(str, str)  # connection name, the server's model id

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName("Translation model")
        self._remote: list[tuple[str, str]] = []
        self._in_use = CHAT
        self._fill()
        self.activated.connect(self._on_activated)

    def show_remote(self, models: Sequence[tuple[str, str]]) -> None:
        """`models`: (connection name, model id) of each model the servers offer."""
        self._remote = list(models)
        self._fill()

    def show_in_use(self, own_model: bool) -> None:
        """The chat's model (False) or a translation-only file (True) is in use."""
        self._in_use = OWN if own_model else CHAT
        self._select()

    def show_remote_in_use(self, connection: str, model: str) -> None:
        """A server's model is in use (added to the list if it lacks it)."""
        self._in_use = _remote_key(connection, model)
        if self.findData(self._in_use) < 0:
            self._remote.append((connection, model))
            self._fill()
        self._select()

    def _fill(self) -> None:
        self.blockSignals(True)
        self.clear()
        self.addItem(CHAT_MODEL, CHAT)
        self.addItem(OWN_MODEL, OWN)
        if self._remote:
            self.insertSeparator(self.count())
        for connection, model in self._remote:
            self.addItem(f"{model} · {connection}", _remote_key(connection, model))
            self.setItemData(
                self.count() - 1,
                f"{model} on the server “{connection}” (Models page, Servers)",
                Qt.ItemDataRole.ToolTipRole,
            )
        self.blockSignals(False)
        self._select()

    def _select(self) -> None:
        index = self.findData(self._in_use)
        self.setCurrentIndex(index if index >= 0 else 0)

    def _on_activated(self, index: int) -> None:
        key = self.itemData(index)
        if not isinstance(key, str):
            return
        if key == CHAT:
            self.modelChosen.emit("")
        elif key == OWN:
            path, _ = QFileDialog.getOpenFileName(
                self, "Choose a model for translation", "", MODEL_FILTER
            )
            if path:
                self.modelChosen.emit(path)
            else:  # dialog closed: keep showing what is in use
                self._select()
        else:
            connection, model = key.split("\0", 1)
            self.remoteChosen.emit(connection, model)
