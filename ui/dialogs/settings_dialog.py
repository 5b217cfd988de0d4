"""Settings (Ctrl+,; issue 15): the app-wide settings in one dialog. Every change applies at
once (there is no OK to forget); the presenter (app/gui/settings_dialog.py) saves it through
the settings store and shows the result with ``show_values``. GUI thread only.

Signals, each only for a change the user made: ``themeChosen(str)``, ``fontSizeChosen(int)``
(0: the desktop's size), ``policyChosen(str)``, ``autoTitlesChosen(bool)``,
``modelChosen(path)``, ``budgetChosen(gib)``, ``openFolderRequested()``.

``server_box`` is the place kept for the API server's settings: hidden while empty; whoever
builds them adds their widget with ``add_server_widget``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from ui.chat.context_policy import POLICIES

THEME_LABELS: tuple[tuple[str, str], ...] = (
    ("system", "Like the desktop"),
    ("light", "Light"),
    ("dark", "Dark"),
)
MAX_BUDGET_GIB = 1024.0


@dataclass(frozen=True)
class SettingsValues:
    """What the dialog shows: plain values, no settings object."""

    data_folder: str
    data_note: str  # how the folder was chosen and how to move it
    models: Sequence[tuple[str, str]]  # (name, path) offered
    model_path: str  # the model loaded at start ("" : none offered yet)
    policy: str
    auto_titles: bool
    theme: str
    font_size: int  # points; 0: the desktop's size
    budget_gib: float


class SettingsDialog(QDialog):
    themeChosen = Signal(str)
    fontSizeChosen = Signal(int)
    policyChosen = Signal(str)
    autoTitlesChosen = Signal(bool)
    modelChosen = Signal(str)
    budgetChosen = Signal(float)
    openFolderRequested = Signal()

    def __init__(self, font_sizes: range, parent: QWidget | None = None) -> None:
        """`font_sizes`: the sizes offered (points); one below them reads "Desktop size"."""
        super().__init__(parent)
        self.setWindowTitle("Settings")
        self.resize(560, 0)

        self.folder_label = QLabel(self)
        self.folder_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.folder_label.setWordWrap(True)
        self.open_folder_button = QPushButton("&Open folder", self)
        self.folder_note = QLabel(self)
        self.folder_note.setWordWrap(True)
        self.folder_note.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        folder_row = QHBoxLayout()
        folder_row.addWidget(self.folder_label, 1)
        folder_row.addWidget(self.open_folder_button)
        data = QGroupBox("Data", self)
        data_layout = QVBoxLayout(data)
        data_layout.addLayout(folder_row)
        data_layout.addWidget(self.folder_note)

        self.model_box = QComboBox(self)
        self.model_box.setAccessibleName("Model")
        self.model_box.setToolTip("Loaded now and at every start (as the chat's model picker)")
        self.model_box.setPlaceholderText("No model installed yet")
        self.policy_box = QComboBox(self)
        for value, label in POLICIES:
            self.policy_box.addItem(label, value)
        self.auto_titles_box = QCheckBox("Name chats &automatically", self)
        self.auto_titles_box.setToolTip(
            "After a chat's first exchange, the loaded model suggests a short title."
        )
        chats = QGroupBox("Model and chats", self)
        chats_form = QFormLayout(chats)
        chats_form.addRow(_buddy("&Model:", self.model_box), self.model_box)
        chats_form.addRow(_buddy("When a chat outgrows the &context:", self.policy_box))
        chats_form.addRow(self.policy_box)
        chats_form.addRow(self.auto_titles_box)

        self.theme_box = QComboBox(self)
        for value, label in THEME_LABELS:
            self.theme_box.addItem(label, value)
        self.font_box = QSpinBox(self)
        self.font_box.setRange(font_sizes.start - 1, font_sizes.stop - 1)
        self.font_box.setSpecialValueText("Desktop size")  # shown at the minimum
        self.font_box.setSuffix(" pt")
        looks = QGroupBox("Appearance", self)
        looks_form = QFormLayout(looks)
        looks_form.addRow(_buddy("&Theme:", self.theme_box), self.theme_box)
        looks_form.addRow(_buddy("Text &size:", self.font_box), self.font_box)

        self.budget_box = QDoubleSpinBox(self)
        self.budget_box.setRange(0.0, MAX_BUDGET_GIB)
        self.budget_box.setDecimals(1)
        self.budget_box.setSingleStep(0.5)
        self.budget_box.setSuffix(" GiB")
        self.budget_box.setSpecialValueText("Keep none")
        self.budget_box.setToolTip(
            "Saved model states let a chat continue at once after a restart. The oldest "
            "go first when they need more room than this."
        )
        disk = QGroupBox("Disk", self)
        disk_form = QFormLayout(disk)
        disk_form.addRow(_buddy("Saved chat states (&KV cache):", self.budget_box), self.budget_box)

        self.server_box = QGroupBox("API server", self)
        self.server_layout = QVBoxLayout(self.server_box)
        self.server_box.hide()

        self.error_label = QLabel(self)
        self.error_label.setWordWrap(True)
        self.error_label.hide()
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.hide)
        note = QLabel("Changes apply at once.", self)
        note.setForegroundRole(QPalette.ColorRole.PlaceholderText)

        layout = QVBoxLayout(self)
        for box in (data, chats, looks, disk, self.server_box):
            layout.addWidget(box)
        layout.addWidget(self.error_label)
        bottom = QHBoxLayout()
        bottom.addWidget(note, 1)
        bottom.addWidget(buttons)
        layout.addLayout(bottom)

        self.open_folder_button.clicked.connect(self.openFolderRequested)
        self.theme_box.activated.connect(
            lambda i: self.themeChosen.emit(self.theme_box.itemData(i))
        )
        self.policy_box.activated.connect(
            lambda i: self.policyChosen.emit(self.policy_box.itemData(i))
        )
        self.model_box.activated.connect(
            lambda i: self.modelChosen.emit(str(self.model_box.itemData(i)))
        )
        self.auto_titles_box.clicked.connect(self.autoTitlesChosen)
        self.font_box.valueChanged.connect(self._on_font_size)
        # On leaving the field or Enter, not on every keystroke ("1" on the way to "12").
        self.budget_box.setKeyboardTracking(False)
        self.font_box.setKeyboardTracking(False)
        self.budget_box.valueChanged.connect(self.budgetChosen)
        self._showing = False

    def show_values(self, values: SettingsValues) -> None:
        """Show `values`; emits nothing (only the user's own changes are signalled)."""
        self._showing = True
        widgets = (self.model_box, self.policy_box, self.theme_box, self.font_box)
        for widget in (*widgets, self.auto_titles_box, self.budget_box):
            widget.blockSignals(True)
        try:
            self.folder_label.setText(values.data_folder)
            self.folder_label.setToolTip(values.data_folder)
            self.folder_note.setText(values.data_note)
            self.model_box.clear()
            for name, path in values.models:
                self.model_box.addItem(name, path)
                self.model_box.setItemData(
                    self.model_box.count() - 1, path, Qt.ItemDataRole.ToolTipRole
                )
            self.model_box.setCurrentIndex(self.model_box.findData(values.model_path))
            _select(self.policy_box, values.policy)
            _select(self.theme_box, values.theme)
            self.auto_titles_box.setChecked(values.auto_titles)
            self.font_box.setValue(values.font_size or self.font_box.minimum())
            self.budget_box.setValue(values.budget_gib)
        finally:
            for widget in (*widgets, self.auto_titles_box, self.budget_box):
                widget.blockSignals(False)
            self._showing = False

    def show_error(self, text: str) -> None:
        """A failed save, in the dialog itself ("" hides it)."""
        self.error_label.setText(text)
        self.error_label.setVisible(bool(text))

    def add_server_widget(self, widget: QWidget) -> None:
        """The API server's settings, in the place kept for them."""
        self.server_layout.addWidget(widget)
        self.server_box.show()

    def _on_font_size(self, value: int) -> None:
        if not self._showing:
            self.fontSizeChosen.emit(0 if value == self.font_box.minimum() else value)


def _buddy(text: str, widget: QWidget) -> QLabel:
    label = QLabel(text)
    label.setBuddy(widget)
    return label


def _select(box: QComboBox, value: str) -> None:
    index = box.findData(value)
    box.setCurrentIndex(index if index >= 0 else 0)
