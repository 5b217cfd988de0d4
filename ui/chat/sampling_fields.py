"""The sampling settings as spin boxes, shared by the presets dialog and a chat's own
sampling dialog so both offer the same ranges and steps. GUI thread only."""

from __future__ import annotations

from PySide6.QtWidgets import QDoubleSpinBox, QFormLayout, QSpinBox, QWidget

from storage.sampling_values import LIMITS

# (key, label, minimum, maximum, step, decimals); decimals 0 means an integer setting. The
# ranges are the ones storage and the importers accept.
SAMPLING_FIELDS: tuple[tuple[str, str, float, float, float, int], ...] = tuple(
    (key, label, *LIMITS[key], step, decimals)
    for key, label, step, decimals in (
        ("temperature", "Temperature", 0.05, 2),
        ("top_p", "Top-p", 0.01, 2),
        ("top_k", "Top-k", 1, 0),
        ("min_p", "Min-p", 0.01, 2),
        ("repeat_penalty", "Repeat penalty", 0.01, 2),
        ("max_tokens", "Longest reply (tokens)", 64, 0),
    )
)

SpinBox = QDoubleSpinBox | QSpinBox


def add_sampling_rows(parent: QWidget, form: QFormLayout) -> dict[str, SpinBox]:
    """A labelled spin box per sampling setting, added to `form`; keyed by setting name."""
    fields: dict[str, SpinBox] = {}
    for key, label, low, high, step, decimals in SAMPLING_FIELDS:
        box: SpinBox
        if decimals:
            box = QDoubleSpinBox(parent)
            box.setDecimals(decimals)
            box.setRange(low, high)
            box.setSingleStep(step)
        else:
            box = QSpinBox(parent)
            box.setRange(int(low), int(high))
            box.setSingleStep(int(step))
        fields[key] = box
        form.addRow(label, box)
    return fields
