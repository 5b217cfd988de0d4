"""The Translate page's history: stores finished translations, lists and searches them,
and puts one back into the editors. GUI thread only."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject

from app.translation.languages import is_known
from storage.database import DatabaseError
from storage.translations import TranslationRecord, TranslationRepository
from ui.translation_history import HistoryEntry
from ui.translation_panel import TranslationPanel


class HistoryController(QObject):
    """`busy()` tells whether a translation runs (no restoring over it then)."""

    def __init__(
        self,
        panel: TranslationPanel,
        repository: TranslationRepository,
        busy: Callable[[], bool],
    ) -> None:
        super().__init__(panel)
        self.panel = panel
        self.repository = repository
        self._busy = busy
        panel.history.searchChanged.connect(self.refresh)
        panel.history.entryChosen.connect(self.restore)

    def add(
        self,
        *,
        source_text: str,
        translation: str,
        source_lang: str | None,
        target_lang: str,
        model: str,
    ) -> None:
        try:
            self.repository.add(
                source_text=source_text,
                translation=translation,
                source_lang=source_lang,
                target_lang=target_lang,
                model=model,
            )
        except DatabaseError as exc:
            self.panel.show_error(f"The translation could not be saved in the history: {exc}")
            return
        self.refresh()

    def refresh(self, text: str | None = None) -> None:
        history = self.panel.history
        query = history.search_text() if text is None else text
        try:
            records = self.repository.search(query)
        except DatabaseError as exc:
            self.panel.show_error(f"The history could not be read: {exc}")
            return
        history.set_entries(self._entry(record) for record in records)

    def restore(self, translation_id: int) -> None:
        if self._busy():
            self.panel.show_error("Cancel the running translation first, then pick from history.")
            return
        record = self.repository.get(translation_id)
        if record is None:
            self.panel.show_error("That translation is no longer in the history.")
            self.refresh()
            return
        source = record.source_lang if record.source_lang and is_known(record.source_lang) else None
        self.panel.restore(record.source_text, record.translation, source, record.target_lang)
        self.panel.show_status("Restored from history.")

    def _entry(self, record: TranslationRecord) -> HistoryEntry:
        source = self.panel.language_label(record.source_lang)
        target = self.panel.language_label(record.target_lang)
        return HistoryEntry(
            record.id,
            record.source_text,
            record.translation,
            f"{source} → {target}",
            record.model,
            record.created_at,
        )
