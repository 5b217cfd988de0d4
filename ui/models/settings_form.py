"""The per-model settings form, with the memory-fit verdict for its context size and GPU
layers. GUI thread only.

Signals: ``fitRequested(n_ctx, gpu_layers, auto, n_batch, flash_attn)`` (flash_attn "auto",
"on" or "off") whenever a value the
fit depends on changes, the KV cache types (`cache_types()`) included (the controller answers
with `show_fit` and `show_cache_problem`), ``saveRequested(values)``,
``resetRequested()``, ``reloadRequested()``; the draft model's choice is `draft`
(draft_choice.py: its ``chosen(path)``).
"""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QSlider,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from ui.models.draft_choice import DraftModelChoice
from ui.models.rows import CUSTOM, FitView, SettingsValues
from ui.widgets.message_bar import MessageBar

CUSTOM_LABEL = "Custom Jinja template"
# KV cache types offered, most memory first (the engine takes a few more; see inference.protocol).
KV_TYPES = (
    ("f16", "f16 (full precision)"),
    ("q8_0", "q8_0 (about half the memory)"),
    ("q4_0", "q4_0 (about a quarter)"),
)
# Flash attention's settings (inference.kv_cache_rules.FLASH_MODES); automatic's label also
# says what llama.cpp made of it for the loaded model (SettingsValues.flash_resolved).
FLASH_CHOICES = (("auto", "Automatic"), ("on", "On"), ("off", "Off"))


def _double(low: float, high: float, step: float, decimals: int = 2) -> QDoubleSpinBox:
    box = QDoubleSpinBox()
    box.setRange(low, high)
    box.setSingleStep(step)
    box.setDecimals(decimals)
    return box


def _form(group: QGroupBox) -> QFormLayout:
    """A form whose rows fit a narrow column (the window's default width leaves it about
    380 px): a row whose field does not fit beside its label goes under it, so the column
    never has to be wider than its widest field (it scrolls only up and down)."""
    form = QFormLayout(group)
    form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
    return form


class ModelSettingsForm(QScrollArea):
    fitRequested = Signal(int, int, bool, int, str)
    saveRequested = Signal(object)  # SettingsValues
    resetRequested = Signal()
    reloadRequested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWidgetResizable(True)
        self.setFrameShape(QScrollArea.Shape.NoFrame)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self._values: SettingsValues | None = None
        self._filling = False
        body = QWidget(self)
        layout = QVBoxLayout(body)
        self.title = QLabel("Select a model to see its settings.", body)
        bold = QFont(self.title.font())
        bold.setBold(True)
        self.title.setFont(bold)
        self.title.setWordWrap(True)
        layout.addWidget(self.title)
        self.reload_bar = MessageBar("Reload", parent=body)
        self.reload_bar.actionTriggered.connect(self.reloadRequested)
        layout.addWidget(self.reload_bar)
        layout.addWidget(self._memory_group(body))
        layout.addWidget(self._chat_group(body))
        layout.addWidget(self._sampling_group(body))
        buttons = QHBoxLayout()
        self.reset_button = QPushButton("Reset to defaults", body)
        self.save_button = QPushButton("Save", body)
        self.save_button.setDefault(True)
        buttons.addWidget(self.reset_button)
        buttons.addStretch(1)
        buttons.addWidget(self.save_button)
        layout.addLayout(buttons)
        layout.addStretch(1)
        self.setWidget(body)
        self.save_button.clicked.connect(self._save)
        self.reset_button.clicked.connect(self.resetRequested)
        self.setEnabled(False)

    # ---- building ----------------------------------------------------------------------

    def _memory_group(self, parent: QWidget) -> QGroupBox:
        group = QGroupBox("Memory and speed", parent)
        form = _form(group)
        self.ctx_spin = QSpinBox(group)
        self.ctx_spin.setRange(256, 131072)
        self.ctx_spin.setSingleStep(1024)
        self.ctx_spin.setSuffix(" tokens")
        self.ctx_spin.setToolTip("How much text the model can see at once. More needs more memory.")
        form.addRow("Context size:", self.ctx_spin)
        self.layers_slider = QSlider(Qt.Orientation.Horizontal, group)
        self.layers_slider.setAccessibleName("GPU layers")
        self.layers_value = QLabel(group)
        self.layers_value.setMinimumWidth(70)
        self.auto_check = QCheckBox("Auto", group)
        self.auto_check.setToolTip("As many layers as fit in free GPU memory")
        row = QHBoxLayout()
        row.addWidget(self.layers_slider, 1)
        row.addWidget(self.layers_value)
        row.addWidget(self.auto_check)
        form.addRow("GPU layers:", row)
        self.fit_label = QLabel(group)
        self.fit_label.setWordWrap(True)
        self.fit_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        bold = QFont(self.fit_label.font())
        bold.setBold(True)
        self.fit_label.setFont(bold)
        self.breakdown_label = QLabel(group)
        self.breakdown_label.setWordWrap(True)
        form.addRow("Estimate:", self.fit_label)
        form.addRow("", self.breakdown_label)
        self.threads_spin = QSpinBox(group)
        self.threads_spin.setRange(0, 256)
        self.threads_spin.setSpecialValueText("Automatic")
        self.threads_spin.setToolTip(
            "Threads that write the reply, one token at a time. Automatic: one per physical core."
        )
        form.addRow("CPU threads:", self.threads_spin)
        self.batch_threads_spin = QSpinBox(group)
        self.batch_threads_spin.setRange(0, 256)
        self.batch_threads_spin.setSpecialValueText("Automatic")
        self.batch_threads_spin.setToolTip(
            "Threads that read the prompt (and documents) in batches. Automatic: every CPU."
        )
        form.addRow("Prompt threads:", self.batch_threads_spin)
        self.batch_spin = QSpinBox(group)
        self.batch_spin.setRange(32, 8192)
        self.batch_spin.setSingleStep(128)
        form.addRow("Batch size:", self.batch_spin)
        self.flash_combo = QComboBox(group)
        for value, label in FLASH_CHOICES:
            self.flash_combo.addItem(label, value)
        self.flash_combo.setAccessibleName("Flash attention")
        self.flash_combo.setToolTip(
            "Less memory for long contexts, and needed for a quantized V cache and for "
            "drafting replies ahead. Automatic lets llama.cpp use it wherever this computer "
            "supports it."
        )
        form.addRow("Flash attention:", self.flash_combo)
        self.type_k_combo = QComboBox(group)
        self.type_v_combo = QComboBox(group)
        for combo in (self.type_k_combo, self.type_v_combo):
            for value, label in KV_TYPES:
                combo.addItem(label, value)
        self.type_k_combo.setAccessibleName("KV cache type of keys")
        self.type_v_combo.setAccessibleName("KV cache type of values")
        self.type_k_combo.setToolTip(
            "How the keys of the context are stored. Smaller types save memory."
        )
        self.type_v_combo.setToolTip("A quantized V cache needs flash attention (not off).")
        form.addRow("KV cache, keys:", self.type_k_combo)
        form.addRow("KV cache, values:", self.type_v_combo)
        # Why llama.cpp would refuse the chosen cache types (empty and hidden when it would not).
        self.cache_warning = QLabel(group)
        self.cache_warning.setWordWrap(True)
        self.cache_warning.setAccessibleName("KV cache problem")
        self.cache_warning.hide()
        form.addRow("", self.cache_warning)
        self.draft = DraftModelChoice(group)
        form.addRow("Draft model:", self.draft)
        for signal in (
            self.ctx_spin.valueChanged,
            self.layers_slider.valueChanged,
            self.batch_spin.valueChanged,
        ):
            signal.connect(self._request_fit)
        self.auto_check.toggled.connect(self._on_auto)
        self.flash_combo.currentIndexChanged.connect(self._request_fit)
        self.type_k_combo.currentIndexChanged.connect(self._request_fit)
        self.type_v_combo.currentIndexChanged.connect(self._request_fit)
        return group

    def _chat_group(self, parent: QWidget) -> QGroupBox:
        group = QGroupBox("Chat", parent)
        form = _form(group)
        self.format_combo = QComboBox(group)
        # Long labels must not widen the whole form: the popup shows them in full.
        self.format_combo.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.format_combo.setMinimumContentsLength(18)
        self.format_combo.setToolTip(
            "How a chat is turned into the model's prompt. Automatic uses the model's own "
            "chat template, else the built-in format for its architecture."
        )
        form.addRow("Chat template:", self.format_combo)
        self.template_edit = QPlainTextEdit(group)
        self.template_edit.setPlaceholderText(
            "{% for message in messages %}…{% endfor %} (rendered in a sandbox)"
        )
        self.template_edit.setMinimumHeight(90)
        form.addRow("", self.template_edit)
        self.system_edit = QPlainTextEdit(group)
        self.system_edit.setPlaceholderText("Sent before every chat with this model (optional)")
        self.system_edit.setMaximumHeight(70)
        form.addRow("System prompt:", self.system_edit)
        self.format_combo.currentIndexChanged.connect(self._on_format)
        return group

    def _sampling_group(self, parent: QWidget) -> QGroupBox:
        group = QGroupBox("Sampling defaults", parent)
        form = _form(group)
        self.temperature_spin = _double(0.0, 2.0, 0.05)
        self.top_p_spin = _double(0.0, 1.0, 0.05)
        self.top_k_spin = QSpinBox(group)
        self.top_k_spin.setRange(0, 1000)
        self.top_k_spin.setSpecialValueText("Off")
        self.min_p_spin = _double(0.0, 1.0, 0.01)
        self.repeat_spin = _double(0.5, 2.0, 0.05)
        self.seed_spin = QSpinBox(group)
        self.seed_spin.setRange(-1, 2**31 - 1)
        self.seed_spin.setSpecialValueText("Random")
        form.addRow("Temperature:", self.temperature_spin)
        form.addRow("Top-p:", self.top_p_spin)
        form.addRow("Top-k:", self.top_k_spin)
        form.addRow("Min-p:", self.min_p_spin)
        form.addRow("Repeat penalty:", self.repeat_spin)
        form.addRow("Seed:", self.seed_spin)
        return group

    # ---- API for the controller -----------------------------------------------------------

    def set_values(self, title: str, values: SettingsValues) -> None:
        """Show one model's settings (never while the user types: called on selection)."""
        self._filling = True
        self._values = values
        self.title.setText(title)
        self.ctx_spin.setMaximum(max(values.max_context, values.n_ctx, 256))
        self.ctx_spin.setValue(values.n_ctx)
        self.layers_slider.setRange(0, max(values.total_layers, 0))
        layers = values.total_layers if values.n_gpu_layers < 0 else values.n_gpu_layers
        self.layers_slider.setValue(min(layers, values.total_layers))
        self.auto_check.setChecked(values.gpu_auto)
        self.layers_slider.setEnabled(not values.gpu_auto)
        decode, prefill = values.auto_threads
        self.threads_spin.setSpecialValueText(f"Automatic ({decode})" if decode else "Automatic")
        self.batch_threads_spin.setSpecialValueText(
            f"Automatic ({prefill})" if prefill else "Automatic"
        )
        self.threads_spin.setValue(values.n_threads)
        self.batch_threads_spin.setValue(values.n_threads_batch)
        self.batch_spin.setValue(values.n_batch)
        self.show_flash_resolved(values.flash_resolved)
        self.flash_combo.setCurrentIndex(max(self.flash_combo.findData(values.flash_attn), 0))
        for combo, value in (
            (self.type_k_combo, values.type_k),
            (self.type_v_combo, values.type_v),
        ):
            if combo.findData(value) < 0:  # a type set by hand in the file: keep showing it
                combo.addItem(value, value)
            combo.setCurrentIndex(combo.findData(value))
        self.draft.fill(values.draft_choices, values.draft_model)
        self.format_combo.clear()
        for value, label in (*values.formats, (CUSTOM, CUSTOM_LABEL)):
            self.format_combo.addItem(label, value)
        index = self.format_combo.findData(values.chat_format)
        self.format_combo.setCurrentIndex(max(index, 0))
        self.template_edit.setPlainText(values.custom_template)
        self.template_edit.setVisible(self.format_combo.currentData() == CUSTOM)
        self.system_edit.setPlainText(values.system_prompt)
        self.temperature_spin.setValue(values.temperature)
        self.top_p_spin.setValue(values.top_p)
        self.top_k_spin.setValue(values.top_k)
        self.min_p_spin.setValue(values.min_p)
        self.repeat_spin.setValue(values.repeat_penalty)
        self.seed_spin.setValue(-1 if values.seed is None else values.seed)
        self.reload_bar.hide()
        self.setEnabled(True)
        self._filling = False
        self._update_layers_label()
        self._request_fit()

    def clear(self) -> None:
        self._values = None
        self.title.setText("Select a model to see its settings.")
        self.fit_label.clear()
        self.breakdown_label.clear()
        self.reload_bar.hide()
        self.setEnabled(False)

    def values(self) -> SettingsValues | None:
        if self._values is None:
            return None
        seed = self.seed_spin.value()
        return SettingsValues(
            n_ctx=self.ctx_spin.value(),
            n_gpu_layers=self.layers_slider.value(),
            gpu_auto=self.auto_check.isChecked(),
            n_threads=self.threads_spin.value(),
            n_batch=self.batch_spin.value(),
            flash_attn=self.flash_attn(),
            chat_format=str(self.format_combo.currentData() or "auto"),
            custom_template=self.template_edit.toPlainText(),
            system_prompt=self.system_edit.toPlainText(),
            temperature=self.temperature_spin.value(),
            top_p=self.top_p_spin.value(),
            top_k=self.top_k_spin.value(),
            min_p=self.min_p_spin.value(),
            repeat_penalty=self.repeat_spin.value(),
            seed=None if seed < 0 else seed,
            max_context=self._values.max_context,
            total_layers=self._values.total_layers,
            formats=self._values.formats,
            n_threads_batch=self.batch_threads_spin.value(),
            auto_threads=self._values.auto_threads,
            flash_resolved=self._values.flash_resolved,
            type_k=self.cache_types()[0],
            type_v=self.cache_types()[1],
            draft_model=self.draft.path(),
            draft_choices=self._values.draft_choices,
        )

    def show_fit(self, fit: FitView) -> None:
        self.fit_label.setText(fit.text[:1].upper() + fit.text[1:])
        self.breakdown_label.setText(fit.breakdown)
        if self.auto_check.isChecked() and self.layers_slider.value() != fit.auto_layers:
            self._filling = True  # the slider follows Auto; no second fit request
            self.layers_slider.setValue(fit.auto_layers)
            self._filling = False
            self._update_layers_label()

    def flash_attn(self) -> str:
        """The chosen flash attention setting: "auto", "on" or "off"."""
        return str(self.flash_combo.currentData() or "auto")

    def show_flash_resolved(self, resolved: str) -> None:
        """Say what flash attention "auto" became for this model, loaded now ("on"/"off"),
        or nothing ("") while it is not loaded."""
        label = f"Automatic (now {resolved})" if resolved else "Automatic"
        self.flash_combo.setItemText(self.flash_combo.findData("auto"), label)
        if self._values is not None:
            self._values = replace(self._values, flash_resolved=resolved)

    def cache_types(self) -> tuple[str, str]:
        """The chosen (K, V) cache types."""
        return (
            str(self.type_k_combo.currentData() or "f16"),
            str(self.type_v_combo.currentData() or "f16"),
        )

    def show_cache_problem(self, text: str) -> None:
        """Why llama.cpp would refuse the chosen cache types; "" hides it. Save stays
        possible (the load says it again), so a half-made change is never lost."""
        self.cache_warning.setText(text)
        self.cache_warning.setVisible(bool(text))

    def show_saved(self, text: str, *, needs_reload: bool) -> None:
        """After a save: "takes effect after reload" with a Reload button, or a plain note."""
        self.reload_bar.action_button.setVisible(needs_reload)
        self.reload_bar.show_message(text, timeout_ms=0 if needs_reload else 6000)

    # ---- internals -------------------------------------------------------------------------

    def _update_layers_label(self) -> None:
        total = self.layers_slider.maximum()
        self.layers_value.setText(f"{self.layers_slider.value()} of {total}")

    def _on_auto(self, auto: bool) -> None:
        self.layers_slider.setEnabled(not auto)
        self._request_fit()

    def _on_format(self) -> None:
        self.template_edit.setVisible(self.format_combo.currentData() == CUSTOM)

    def _request_fit(self) -> None:
        self._update_layers_label()
        if self._filling or self._values is None:
            return
        self.fitRequested.emit(
            self.ctx_spin.value(),
            self.layers_slider.value(),
            self.auto_check.isChecked(),
            self.batch_spin.value(),
            self.flash_attn(),
        )

    def _save(self) -> None:
        values = self.values()
        if values is not None:
            self.saveRequested.emit(values)
