"""The chat's model, switchable from the chat page itself. GUI thread only.

Emits ``modelChosen(path)`` when the user picks a local model other than the one in use, and
``remoteChosen(connection, model)`` for a model on a remote server (issue 14); the app fills
the list (local models from the Models page, a server's models once it answered) and swaps the
model. Remote models come after the local ones, named "model · connection".
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QComboBox, QWidget

# A remote model's item data: this prefix, its connection's name, a NUL, the model id. A NUL
# never occurs in a file path, so the two kinds of item never mix.
_REMOTE = "\0remote\0"


def remote_key(connection: str, model: str) -> str:
    return f"{_REMOTE}{connection}\0{model}"


def remote_label(connection: str, model: str) -> str:
    return f"{model} · {connection}"


class ModelPicker(QComboBox):
    modelChosen = Signal(str)
    remoteChosen = Signal(str, str)  # connection name, the server's model id

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName("Chat model")
        self.setToolTip(
            "The model this chat uses. Choosing another one unloads the current model first; "
            "the Models page has the details and the downloads, and connects to servers."
        )
        self.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.setMinimumContentsLength(20)
        self.setPlaceholderText("No model")
        self._current = ""
        self._local: list[tuple[str, str]] = []
        self._remote: list[tuple[str, str]] = []
        self.activated.connect(self._on_activated)

    def show_models(self, models: Sequence[tuple[str, str]], current: str) -> None:
        """`models`: (name, path) of each usable model; `current`: the path in use (kept
        when a remote model is in use)."""
        self._local = list(models)
        self._fill(self._current if self._current.startswith(_REMOTE) else current)

    def show_remote(self, models: Sequence[tuple[str, str]]) -> None:
        """`models`: (connection name, model id) of each model the servers offer."""
        self._remote = list(models)
        self._fill(self._current)

    def _fill(self, current: str) -> None:
        self.blockSignals(True)
        self.clear()
        for name, path in self._local:
            self.addItem(name, path)
            self.setItemData(self.count() - 1, path, Qt.ItemDataRole.ToolTipRole)
        if self._local and self._remote:
            self.insertSeparator(self.count())
        for connection, model in self._remote:
            self.addItem(remote_label(connection, model), remote_key(connection, model))
            self.setItemData(
                self.count() - 1,
                f"{model} on the server “{connection}” (Models page, Servers)",
                Qt.ItemDataRole.ToolTipRole,
            )
        self.blockSignals(False)
        self.set_current(current)

    def models(self) -> list[tuple[str, str]]:
        """(name, path) of each model offered, as given to `show_models`."""
        return [(self.itemText(i), str(self.itemData(i))) for i in range(self.count())]

    def current_path(self) -> str:
        """The path of the model in use ("" when none)."""
        return self._current

    def set_current(self, path: str, name: str = "") -> None:
        """Show `path` as the model in use; one not in the list yet is added as `name`
        (the app's display name for it; the file name when none is given)."""
        self._current = path
        if not path:
            self.setCurrentIndex(-1)
            return
        index = self.findData(path)
        if index < 0:
            self.addItem(name or Path(path).name, path)
            index = self.count() - 1
        self.setCurrentIndex(index)

    def set_current_remote(self, connection: str, model: str) -> None:
        """Show the server's `model` as the one in use (added if the list lacks it)."""
        self.set_current(remote_key(connection, model), remote_label(connection, model))

    def _on_activated(self, index: int) -> None:
        key = self.itemData(index)
        if not isinstance(key, str) or not key or key == self._current:
            return
        self._current = key
        if key.startswith(_REMOTE):
            connection, model = key.removeprefix(_REMOTE).split("\0", 1)
            self.remoteChosen.emit(connection, model)
        else:
            self.modelChosen.emit(key)
