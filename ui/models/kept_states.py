"""The Models page's line about kept conversation states (issue 13, "Instant resume"): how
much disk they take, how much they may take (editable), and Clear. GUI thread only.

Passive: app/gui/models/kept_states.py fills it and acts on its signals.

Signals: ``shown()`` each time the line becomes visible (the page or its tab is shown: time
to read the usage again), ``clearRequested()`` (Clear pressed; no confirmation, it is a
cache), ``budgetChosen(gib)`` (the user set how many GiB the states may take; 0: none).
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import QDoubleSpinBox, QHBoxLayout, QLabel, QPushButton, QWidget

USAGE_PREFIX = "Kept conversation states:"
CLEAR_TIP = (
    "Delete every kept conversation state now, to free the disk. Your chats stay as they "
    "are; the next message in each one reads its history again, once."
)
BUDGET_TIP = (
    "How much disk the kept states may take. When they outgrow it, the states of the chats "
    "continued least recently go first. 0 keeps none."
)


class KeptStatesLine(QWidget):
    shown = Signal()
    clearRequested = Signal()
    budgetChosen = Signal(float)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.usage_label = QLabel(f"{USAGE_PREFIX} …", self)
        self.budget_box = QDoubleSpinBox(self)
        self.budget_box.setDecimals(1)
        self.budget_box.setSingleStep(0.5)
        self.budget_box.setSuffix(" GiB")
        # One choice per finished edit, not one per keystroke (typing "12" is not "1" first).
        self.budget_box.setKeyboardTracking(False)
        self.budget_box.setToolTip(BUDGET_TIP)
        self.clear_button = QPushButton("Clear", self)
        self.clear_button.setToolTip(CLEAR_TIP)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.usage_label)
        layout.addWidget(self.budget_box)
        layout.addWidget(self.clear_button)
        layout.addStretch(1)
        self.budget_box.valueChanged.connect(self.budgetChosen)
        self.clear_button.clicked.connect(self.clearRequested)

    # ---- API for the presenter --------------------------------------------------------------

    def show_usage(self, used: str, details: str) -> None:
        """`used`: the disk the states take now ("1.2 GiB"), read as "… of <budget>";
        `details`: the label's tooltip (how many, where, what they are for)."""
        self.usage_label.setText(f"{USAGE_PREFIX} {used} of")
        self.usage_label.setToolTip(details)

    def set_budget(self, gib: float, maximum_gib: float) -> None:
        """Show the budget in effect (no `budgetChosen` for it)."""
        self.budget_box.blockSignals(True)
        self.budget_box.setMaximum(max(maximum_gib, gib))
        self.budget_box.setValue(gib)
        self.budget_box.blockSignals(False)

    def set_clearing(self, clearing: bool) -> None:
        """While Clear works the button waits (pressing it twice does nothing more)."""
        self.clear_button.setEnabled(not clearing)

    def text(self) -> str:
        """The whole line as read aloud: "Kept conversation states: 1.2 GiB of 4.0 GiB"."""
        return f"{self.usage_label.text()} {self.budget_box.text()}"

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self.shown.emit()
