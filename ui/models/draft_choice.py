"""The per-model settings form's "Draft model" choice (issue 13): a combo of the local models
offered ("None" first) and, under it, why the chosen one cannot be used. GUI thread only.

Signal: ``chosen(path)`` when the user picks another one ("" none); the controller checks it
and answers with `show_problem`.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QLabel, QVBoxLayout, QWidget

TOOLTIP = (
    "A smaller model with the same vocabulary that guesses a few tokens ahead for this one "
    "to check at once. The reply stays the same; Hearth measures whether it is faster and "
    "stops using it where it is not."
)


class DraftModelChoice(QWidget):
    chosen = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.combo = QComboBox(self)
        self.combo.setAccessibleName("Draft model")
        # Long file names must not widen the whole form: the popup shows them in full.
        self.combo.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.combo.setMinimumContentsLength(18)
        self.combo.setToolTip(TOOLTIP)
        layout.addWidget(self.combo)
        self.warning = QLabel(self)
        self.warning.setWordWrap(True)
        self.warning.setAccessibleName("Draft model problem")
        self.warning.hide()
        layout.addWidget(self.warning)
        self._filling = False
        self.combo.currentIndexChanged.connect(self._on_changed)

    def fill(self, choices: tuple[tuple[str, str], ...], current: str) -> None:
        """Offer `choices` ((path, label)) and select `current` ("" none), without `chosen`."""
        self._filling = True
        self.combo.clear()
        self.combo.addItem("None", "")
        for path, label in choices:
            self.combo.addItem(label, path)
        if current and self.combo.findData(current) < 0:
            self.combo.addItem(current, current)  # chosen before, not among the models now
        self.combo.setCurrentIndex(max(self.combo.findData(current), 0))
        self.show_problem("")
        self._filling = False

    def path(self) -> str:
        """The chosen draft model's path ("" none)."""
        return str(self.combo.currentData() or "")

    def show_problem(self, text: str) -> None:
        """Why the chosen draft model cannot be used; "" hides it."""
        self.warning.setText(text)
        self.warning.setVisible(bool(text))

    def _on_changed(self) -> None:
        if not self._filling:
            self.chosen.emit(self.path())
