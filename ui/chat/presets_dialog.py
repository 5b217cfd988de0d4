"""Presets: named system prompts with sampling settings. GUI thread only.

The dialog edits one preset at a time and forwards what the user does as signals; the app's
PresetsController stores and applies them:
``saveRequested(id or 0, name, system_prompt, sampling)``, ``deleteRequested(id)``,
``duplicateRequested(id)``, ``importRequested(path)``, ``exportRequested(path)``,
``applyRequested(id)``.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from storage.presets import Preset
from ui.chat.sampling_fields import add_sampling_rows

_ID = Qt.ItemDataRole.UserRole


class PresetsDialog(QDialog):
    saveRequested = Signal(int, str, str, object)
    deleteRequested = Signal(int)
    duplicateRequested = Signal(int)
    importRequested = Signal(str)
    exportRequested = Signal(str)
    applyRequested = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Presets")
        self.resize(760, 520)
        self.list = QListWidget(self)
        self.list.setAccessibleName("Presets")
        self.name = QLineEdit(self)
        self.prompt = QPlainTextEdit(self)
        self.prompt.setPlaceholderText("Instructions the model follows (may be empty)")
        self.fields: dict[str, QDoubleSpinBox | QSpinBox] = {}
        # The editor: enabled only while it shows a preset or a new one being made, so no
        # one edits (or saves) the spin boxes' bare minimums as if they were a preset.
        self.editor = QWidget(self)
        form = QFormLayout(self.editor)
        form.setContentsMargins(0, 0, 0, 0)
        form.addRow("Name", self.name)
        form.addRow("System prompt", self.prompt)
        self.fields.update(add_sampling_rows(self.editor, form))
        self.status = QLabel(self)
        self.status.setWordWrap(True)
        self.new_button = QPushButton("New", self)
        self.duplicate_button = QPushButton("Duplicate", self)
        self.delete_button = QPushButton("Delete", self)
        self.import_button = QPushButton("Import…", self)
        self.export_button = QPushButton("Export…", self)
        self.save_button = QPushButton("Save", self)
        self.apply_button = QPushButton("Use in this chat", self)
        self.apply_button.setToolTip(
            "Sets this chat's system prompt and the sampling settings for your replies."
        )
        left = QVBoxLayout()
        left.addWidget(self.list, 1)
        row = QHBoxLayout()
        for button in (self.new_button, self.duplicate_button, self.delete_button):
            row.addWidget(button)
        left.addLayout(row)
        row = QHBoxLayout()
        row.addWidget(self.import_button)
        row.addWidget(self.export_button)
        left.addLayout(row)
        right = QVBoxLayout()
        right.addWidget(self.editor, 1)
        right.addWidget(self.status)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(self.save_button)
        row.addWidget(self.apply_button)
        right.addLayout(row)
        panes = QHBoxLayout()
        panes.addLayout(left, 2)
        panes.addLayout(right, 3)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(panes, 1)
        layout.addWidget(self.buttons)

        self._presets: dict[int, Preset] = {}
        self._defaults: dict[str, float | int] = {}
        self._new = False  # the editor holds a new preset not saved yet
        self.list.currentItemChanged.connect(lambda *_: self._show_current())
        self.new_button.clicked.connect(self.start_new)
        self.save_button.clicked.connect(self._save)
        self.delete_button.clicked.connect(lambda: self._emit_for_current(self.deleteRequested))
        self.duplicate_button.clicked.connect(
            lambda: self._emit_for_current(self.duplicateRequested)
        )
        self.apply_button.clicked.connect(lambda: self._emit_for_current(self.applyRequested))
        self.import_button.clicked.connect(self._import)
        self.export_button.clicked.connect(self._export)

    # ---- API for the controller -----------------------------------------------------------

    def set_defaults(self, sampling: dict[str, float | int]) -> None:
        """The app's current sampling: what a new preset starts from."""
        self._defaults = dict(sampling)

    def set_presets(self, presets: Sequence[Preset], select_id: int | None = None) -> None:
        current = select_id if select_id is not None else self.current_id()
        self._presets = {p.id: p for p in presets}
        self.list.blockSignals(True)
        self.list.clear()
        for preset in presets:
            item = QListWidgetItem(preset.name)
            item.setData(_ID, preset.id)
            self.list.addItem(item)
            if preset.id == current:
                self.list.setCurrentItem(item)
        self.list.blockSignals(False)
        if self.list.currentItem() is None and self.list.count():
            self.list.setCurrentRow(0)
        self._show_current()

    def current_id(self) -> int | None:
        item = self.list.currentItem()
        return int(item.data(_ID)) if item is not None else None

    def say(self, text: str) -> None:
        self.status.setText(text)

    def start_new(self) -> None:
        self._new = True
        self.list.clearSelection()
        self.list.setCurrentItem(None)
        self._set_editing(True)
        self.name.setText("")
        self.prompt.setPlainText("")
        self._show_sampling(self._defaults)
        self.name.setFocus()
        self.say("A new preset: give it a name and Save.")

    # ---- internals ------------------------------------------------------------------------

    def _set_editing(self, editing: bool) -> None:
        self.editor.setEnabled(editing)
        self.save_button.setEnabled(editing)

    def _show_current(self) -> None:
        preset = self._presets.get(self.current_id() or -1)
        has = preset is not None
        for button in (self.duplicate_button, self.delete_button, self.apply_button):
            button.setEnabled(has)
        if preset is None:
            if not self._new:  # nothing chosen: an empty, disabled editor and a hint
                self._set_editing(False)
                self.name.clear()
                self.prompt.clear()
                self._show_sampling(self._defaults)
                self.say(
                    "Choose a preset on the left, or press New to make one."
                    if self._presets
                    else "No presets yet. Press New to make one."
                )
            return
        self._new = False
        self._set_editing(True)
        self.name.setText(preset.name)
        self.prompt.setPlainText(preset.system_prompt)
        self._show_sampling({**self._defaults, **preset.sampling})
        self.say("")

    def _show_sampling(self, values: dict[str, float | int]) -> None:
        for key, box in self.fields.items():
            if key in values:
                box.setValue(values[key])  # type: ignore[arg-type]

    def _save(self) -> None:
        sampling = {key: box.value() for key, box in self.fields.items()}
        self.saveRequested.emit(
            self.current_id() or 0, self.name.text(), self.prompt.toPlainText(), sampling
        )

    def _emit_for_current(self, signal: Signal) -> None:
        preset_id = self.current_id()
        if preset_id is not None:
            signal.emit(preset_id)  # type: ignore[attr-defined]

    def _import(self) -> None:
        path = QFileDialog.getOpenFileName(self, "Import presets", "", "Hearth presets (*.json)")[0]
        if path:
            self.importRequested.emit(path)

    def _export(self) -> None:
        path = QFileDialog.getSaveFileName(
            self, "Export presets", "hearth-presets.json", "Hearth presets (*.json)"
        )[0]
        if path:
            self.exportRequested.emit(path)
