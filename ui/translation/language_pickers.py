"""The Translate page's language pickers and what detection found. GUI thread only.

A mixin of `TranslationPanel` (ui/translation/panel.py), which owns the widgets named
below and the ``languagesChanged`` signal, ``show_error`` and ``hide_message``."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel

from ui.widgets.language_combo import LanguageCombo

AUTO_DETECT = "Detect automatically"
DETECTING = "Detecting the language…"
_NAME_ROLE = Qt.ItemDataRole.UserRole + 1  # the name a sentence uses ("German")


class LanguagePickers:
    source_language: LanguageCombo
    target_language: LanguageCombo
    detected_label: QLabel
    _detected: str | None
    _detecting: bool
    _busy: bool

    def set_languages(self, languages: Sequence[tuple[str, str, str]]) -> None:
        """(code, label, name) triples in the order to show them: the label is what the
        lists show ("German — Deutsch"), the name what sentences say ("German")."""
        for combo in (self.source_language, self.target_language):
            combo.blockSignals(True)
            combo.clear()
        self.source_language.addItem(AUTO_DETECT, None)
        for code, label, name in languages:
            for combo in (self.source_language, self.target_language):
                combo.addItem(label, code)
                combo.setItemData(combo.count() - 1, code, Qt.ItemDataRole.ToolTipRole)
                combo.setItemData(combo.count() - 1, name, _NAME_ROLE)
        for combo in (self.source_language, self.target_language):
            combo.blockSignals(False)

    def source_code(self) -> str | None:
        """The picked source language, or None for "Detect automatically"."""
        code = self.source_language.currentData()
        return str(code) if code else None

    def target_code(self) -> str:
        return str(self.target_language.currentData() or "")

    def set_source_code(self, code: str | None) -> None:
        index = self.source_language.findData(code) if code else 0
        self.source_language.setCurrentIndex(max(index, 0))

    def set_target_code(self, code: str) -> None:
        index = self.target_language.findData(code)
        if index >= 0:
            self.target_language.setCurrentIndex(index)

    def language_label(self, code: str | None) -> str:
        """The language's name as a sentence says it ("into German")."""
        if code is None:
            return AUTO_DETECT
        index = self.target_language.findData(code)
        return str(self.target_language.itemData(index, _NAME_ROLE)) if index >= 0 else code

    def begin_detection(self) -> None:
        """The text's language is being detected (for a translation or by Detect)."""
        self._set_detection(None, DETECTING, detecting=True)

    def show_detection(self, code: str | None, message: str) -> None:
        """The detector's answer: a language (then used as the source) or a plain reason."""
        self._set_detection(code, message)
        if code is None:
            self.show_error(message)
            self.source_language.setFocus()
            return
        self.hide_message()

    def detection_text(self) -> str:
        return self.detected_label.text()

    def detected_code(self) -> str | None:
        return self._detected

    def _on_source_picked(self, _index: int) -> None:
        if self.source_code() is not None:
            self._set_detection(None, "")
        self.languagesChanged.emit()

    def _set_detection(self, code: str | None, text: str, *, detecting: bool = False) -> None:
        """The one state of detection, and the one place that tells it: the language found
        (or the reason there is none, or that detection is running) beside the picker. The
        status line speaks of the job, never of detection, so the two cannot disagree."""
        self._detected = code
        self._detecting = detecting
        self.detected_label.setText(f"Detected: {self.language_label(code)}" if code else text)

    def _forget_detection(self) -> None:
        if not self._busy and (self._detected is not None or self.detected_label.text()):
            self._set_detection(None, "")
