"""What happens when a chat outgrows the model's context: the user's standing choice (a combo
box under the input) and the question asked when that choice is "ask me". GUI thread only."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import (
    QComboBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QToolButton,
    QWidget,
)

# (value stored in settings, label); values match inference.process.context_fit.OverflowPolicy.
POLICIES: tuple[tuple[str, str], ...] = (
    ("ask", "Ask me"),
    ("drop_oldest", "Drop the oldest turns"),
    ("keep_ends", "Keep the first and last turns"),
)


class ContextPolicyBox(QComboBox):
    """Signal: ``policyChosen(value)`` when the user picks another policy."""

    policyChosen = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        for value, label in POLICIES:
            self.addItem(label, value)
        self.setAccessibleName("When the chat outgrows the context")
        self.setToolTip(
            "When the conversation no longer fits the model's context window. Hearth never "
            "drops text silently: the transcript marks what the model no longer sees."
        )
        self.activated.connect(lambda index: self.policyChosen.emit(self.itemData(index)))

    def set_policy(self, value: str) -> None:
        index = self.findData(value)
        self.setCurrentIndex(index if index >= 0 else 0)

    def policy(self) -> str:
        return str(self.currentData())


class OverflowQuestion(QFrame):
    """ "This chat no longer fits — drop the oldest turns / keep first and last?"

    Signals: ``answered(policy)`` with the chosen policy value, ``dismissed()``.
    """

    answered = Signal(str)
    dismissed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setAutoFillBackground(True)
        self.setBackgroundRole(QPalette.ColorRole.AlternateBase)
        self.label = QLabel(self)
        self.label.setWordWrap(True)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(8, 4, 4, 4)
        layout.addWidget(self.label, 1)
        self.buttons: dict[str, QPushButton] = {}
        for value, label in POLICIES[1:]:
            button = QPushButton(label, self)
            button.clicked.connect(lambda _=False, v=value: self._answer(v))
            layout.addWidget(button)
            self.buttons[value] = button
        close = QToolButton(self)
        close.setText("✕")
        close.setAutoRaise(True)
        close.setToolTip("Dismiss")
        close.setAccessibleName("Dismiss")
        close.clicked.connect(self._dismiss)
        layout.addWidget(close)
        self.hide()

    def ask(self, text: str) -> None:
        self.label.setText(text)
        self.show()
        self.buttons["drop_oldest"].setFocus()

    def _answer(self, value: str) -> None:
        self.hide()
        self.answered.emit(value)

    def _dismiss(self) -> None:
        self.hide()
        self.dismissed.emit()
