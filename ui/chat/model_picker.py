"""The chat's model, switchable from the chat page itself. GUI thread only.

Emits ``modelChosen(path)`` when the user picks a model other than the one in use; the
app's Models controller fills the list and swaps the model in the engine.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QComboBox, QWidget


class ModelPicker(QComboBox):
    modelChosen = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName("Chat model")
        self.setToolTip(
            "The model this chat uses. Choosing another one unloads the current model first; "
            "the Models page has the details and the downloads."
        )
        self.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.setMinimumContentsLength(20)
        self.setPlaceholderText("No model")
        self._current = ""
        self.activated.connect(self._on_activated)

    def show_models(self, models: Sequence[tuple[str, str]], current: str) -> None:
        """`models`: (name, path) of each usable model; `current`: the path in use."""
        self.blockSignals(True)
        self.clear()
        for name, path in models:
            self.addItem(name, path)
            self.setItemData(self.count() - 1, path, Qt.ItemDataRole.ToolTipRole)
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

    def _on_activated(self, index: int) -> None:
        path = self.itemData(index)
        if isinstance(path, str) and path and path != self._current:
            self._current = path
            self.modelChosen.emit(path)
