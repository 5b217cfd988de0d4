"""What the loaded model really got after llama.cpp loaded it: backend, requested vs offloaded
GPU layers, memory used, and why the GPU is not used when it is not. GUI thread only."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QFormLayout, QGroupBox, QLabel, QSizePolicy, QWidget

from ui.models.rows import LoadedView


def _label(parent: QWidget) -> QLabel:
    label = QLabel(parent)
    label.setWordWrap(True)
    # Selectable: the user may want to copy the rebuild command.
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    return label


class LoadedModelPanel(QGroupBox):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Loaded model", parent)
        form = QFormLayout(self)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.name_label = _label(self)
        bold = QFont(self.name_label.font())
        bold.setBold(True)
        self.name_label.setFont(bold)
        self.backend_label = _label(self)
        self.layers_label = _label(self)
        self.memory_label = _label(self)
        self.details_label = _label(self)
        self.gpu_note = _label(self)
        form.addRow("Model:", self.name_label)
        form.addRow("Runs on:", self.backend_label)
        form.addRow("GPU layers:", self.layers_label)
        form.addRow("Memory:", self.memory_label)
        form.addRow("Details:", self.details_label)
        form.addRow(self.gpu_note)
        # Only as tall as its text: the table and the settings below get the rest.
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)
        self.show_loading("No model is loaded yet.")

    def show_loaded(self, view: LoadedView) -> None:
        self.name_label.setText(view.name)
        self.name_label.setToolTip(view.path)
        self.backend_label.setText(view.backend)
        self.layers_label.setText(view.layers)
        self.memory_label.setText(view.memory)
        self.details_label.setText(view.details)
        self.gpu_note.setText(view.gpu_note)
        self.gpu_note.setVisible(bool(view.gpu_note))

    def show_failed(self, title: str, reason: str) -> None:
        """A load failed: nothing is loaded now, and why, in plain words."""
        self.show_loading(title)
        self.gpu_note.setText(reason)
        self.gpu_note.show()

    def show_loading(self, text: str) -> None:
        self.name_label.setText(text)
        self.name_label.setToolTip("")
        for label in (self.backend_label, self.layers_label, self.memory_label):
            label.setText("—")
        self.details_label.setText("")
        self.gpu_note.hide()
