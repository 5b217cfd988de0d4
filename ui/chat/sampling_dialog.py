"""One chat's own sampling settings. GUI thread only.

Shows the values this chat's replies use: its own where it has them, the model's defaults
otherwise. ``samplingChosen(conversation_id, values)`` carries only the values that differ
from the defaults (empty: use the model's defaults), so a later change to the model's
defaults still reaches every value the user left alone.
"""

from __future__ import annotations

from collections.abc import Mapping

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from storage.sampling_values import LIMITS, RANDOM_SEED
from ui.chat.sampling_fields import SAMPLING_FIELDS, add_sampling_rows

_SEED_MAX = int(LIMITS["seed"][1])

Values = dict[str, float | int]


class ChatSamplingDialog(QDialog):
    samplingChosen = Signal(int, object)  # conversation id, Values

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Sampling for this chat")
        self.intro = QLabel(self)
        self.intro.setWordWrap(True)
        self.fields: dict[str, QDoubleSpinBox | QSpinBox] = {}
        self._decimals: dict[str, int] = {}
        form = QFormLayout()
        self.fields.update(add_sampling_rows(self, form))
        self._decimals.update({key: places for key, *_, places in SAMPLING_FIELDS})
        seed = QSpinBox(self)
        seed.setRange(RANDOM_SEED, _SEED_MAX)
        seed.setSpecialValueText("Random")  # shown for the minimum, RANDOM_SEED
        seed.setToolTip("A fixed seed makes the same question get the same reply.")
        self.fields["seed"] = seed
        self._decimals["seed"] = 0
        form.addRow("Seed", seed)
        self.defaults_button = QPushButton("Use model defaults", self)
        self.defaults_button.setToolTip("This chat follows the model's settings again.")
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        self.buttons.addButton(self.defaults_button, QDialogButtonBox.ButtonRole.ResetRole)
        layout = QVBoxLayout(self)
        layout.addWidget(self.intro)
        layout.addLayout(form)
        layout.addWidget(self.buttons)

        self._conversation_id = 0
        self._defaults: Values = {}
        self.defaults_button.clicked.connect(self.reset_to_defaults)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        self.accepted.connect(self._emit_chosen)

    def edit(
        self, conversation_id: int, title: str, defaults: Mapping[str, float | int], own: Values
    ) -> None:
        """Show the dialog (window-modal, without blocking the event loop) for one chat."""
        self._conversation_id = conversation_id
        self._defaults = {**dict(defaults), "seed": defaults.get("seed", RANDOM_SEED)}
        self.intro.setText(
            f"How the model writes its replies in “{title}”. Values you change here apply to "
            "this chat only."
        )
        self._show({**self._defaults, **own})
        self.open()

    def reset_to_defaults(self) -> None:
        self._show(self._defaults)

    def values(self) -> Values:
        """The values that differ from the model's defaults."""
        chosen: Values = {}
        for key, box in self.fields.items():
            value = box.value()
            default = self._defaults.get(key)
            digits = self._decimals[key]
            if default is None or round(float(default), digits) != round(float(value), digits):
                chosen[key] = round(value, digits) if digits else int(value)
        return chosen

    def _show(self, values: Mapping[str, float | int]) -> None:
        for key, box in self.fields.items():
            if key in values:
                box.setValue(values[key])  # type: ignore[arg-type]

    def _emit_chosen(self) -> None:
        self.samplingChosen.emit(self._conversation_id, self.values())
