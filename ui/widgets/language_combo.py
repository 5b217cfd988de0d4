"""A language picker the user can type into: "ger", "Deutsch" or "de" all select
"German — Deutsch". A list of forty languages is quicker to search than to scroll.

Typed text never becomes an item: when the editing ends (Enter, Tab, a click elsewhere) it
selects the one language it names, or the picker shows its current choice again.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QCompleter, QWidget

# Separates the two names in an item's label ("German — Deutsch").
NAME_SEPARATOR = " — "


class LanguageCombo(QComboBox):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setEditable(True)
        self.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        # Suggestions match anywhere in the label, so the language's own name finds it too.
        completer = QCompleter(self.model(), self)
        completer.setFilterMode(Qt.MatchFlag.MatchContains)
        completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        completer.setCompletionMode(QCompleter.CompletionMode.PopupCompletion)
        self.setCompleter(completer)
        line = self.lineEdit()
        line.setClearButtonEnabled(False)
        line.editingFinished.connect(self._take_typed_text)

    def _take_typed_text(self) -> None:
        index = self.find_typed(self.currentText())
        if index >= 0 and index != self.currentIndex():
            self.setCurrentIndex(index)
        # Show the chosen item's full label, not what was typed.
        self.setEditText(self.itemText(self.currentIndex()))

    def find_typed(self, typed: str) -> int:
        """The item `typed` names: its code, either of its names or the whole label, else
        the one item with a name starting with it, else the one item containing it; -1
        when it names none or several."""
        key = typed.strip().casefold()
        if not key:
            return -1
        labels = [self.itemText(i).casefold() for i in range(self.count())]
        names = [label.split(NAME_SEPARATOR.casefold()) for label in labels]
        for i, label in enumerate(labels):
            code = self.itemData(i)
            if key == label or key in names[i] or (code and key == str(code).casefold()):
                return i
        for matches in (
            [i for i in range(len(labels)) if any(n.startswith(key) for n in names[i])],
            [i for i in range(len(labels)) if key in labels[i]],
        ):
            if len(matches) == 1:
                return matches[0]
        return -1
