"""The Translate page's history: stores finished translations, lists and searches them,
puts one back into the editors, deletes entries (with undo) and clears it all.
GUI thread only."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject

from app.languages.codes import is_known
from storage.errors import DatabaseError
from storage.translations import TranslationRecord, TranslationRepository
from ui.translation.history import HistoryEntry
from ui.translation.panel import TranslationPanel


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
        self._deleted: list[TranslationRecord] = []  # what Undo brings back
        history = panel.history
        history.searchChanged.connect(self.refresh)
        history.entryChosen.connect(self.restore)
        history.deleteRequested.connect(self.delete)
        history.clearRequested.connect(self.clear)
        history.undoRequested.connect(self.undo_delete)

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

    def delete(self, ids: list[int]) -> None:
        try:
            self._deleted = self.repository.delete_many(ids)
        except DatabaseError as exc:
            self.panel.show_error(f"The translations could not be deleted: {exc}")
            return
        self.refresh()
        count = len(self._deleted)
        if count:
            self.panel.history.show_undo(
                f"Deleted {count} translation{'s' if count != 1 else ''} from the history."
            )

    def undo_delete(self) -> None:
        records, self._deleted = self._deleted, []
        try:
            self.repository.restore(records)
        except DatabaseError as exc:
            self.panel.show_error(f"The translations could not be brought back: {exc}")
            return
        self.panel.history.hide_undo()
        self.refresh()

    def clear(self) -> None:
        history = self.panel.history
        try:
            count = self.repository.count()
            if not count or not history.confirm_clear(count):
                return
            self.repository.clear()
        except DatabaseError as exc:
            self.panel.show_error(f"The history could not be cleared: {exc}")
            return
        self._deleted = []  # what was deleted before stays deleted with the rest
        history.hide_undo()
        self.refresh()
        self.panel.show_status(f"Cleared the history ({count} translations).")

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
