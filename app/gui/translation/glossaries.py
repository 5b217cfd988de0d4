"""The Translate page's glossaries: one per language pair, shown in the panel's editor,
saved to the data folder shortly after each edit, loaded from and saved to files.
GUI thread only."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, QTimer

from app.gui.translation.runs import sentence
from app.translation.glossary import Glossary, GlossaryError, Term, dump_json, load_glossary
from app.translation.glossary_store import GlossaryStore, pair_key, split_pair
from app.util.atomic_write import write_atomic
from ui.translation.panel import TranslationPanel

GLOSSARY_SAVE_DELAY_MS = 800


class GlossaryController(QObject):
    def __init__(self, panel: TranslationPanel, glossaries_file: Path | None) -> None:
        super().__init__(panel)
        self.panel = panel
        self._store = GlossaryStore(glossaries_file)
        self._pair = ""
        # Edits come a key press at a time: write the file once they pause.
        self._save_timer = QTimer(
            self, interval=GLOSSARY_SAVE_DELAY_MS, singleShot=True, timeout=self.save
        )
        panel.glossary.changed.connect(self._on_edited)
        panel.glossary.loadRequested.connect(self.load_file)
        panel.glossary.saveRequested.connect(self.save_file)

    def show_pair(self, source: str | None, target: str) -> None:
        """Put the glossary of this language pair into the editor."""
        self._pair = pair_key(source, target)
        glossary = self._store.get(self._pair)
        self._fill(glossary)
        source_label = "any language" if source is None else self.panel.language_label(source)
        self.panel.glossary.set_pair_label(f"{source_label} → {self.panel.language_label(target)}")

    def current(self) -> Glossary:
        terms, keep = self.panel.glossary.entries()
        source, target = split_pair(self._pair)
        return Glossary(tuple(Term(s, t) for s, t in terms), tuple(keep), source, target)

    def load_file(self, path: str) -> None:
        try:
            glossary = load_glossary(Path(path))
        except GlossaryError as exc:
            self.panel.show_error(f"The glossary was not loaded. {sentence(str(exc))}")
            return
        self._fill(glossary)
        self._on_edited()
        count = len(glossary.terms) + len(glossary.keep)
        self.panel.show_status(f"Loaded {count} glossary entries from {Path(path).name}.")

    def save_file(self, path: str) -> None:
        try:
            write_atomic(Path(path), dump_json(self.current()))
        except OSError as exc:
            self.panel.show_error(f"The glossary was not saved: {exc.strerror or exc}.")
            return
        self.panel.show_status(f"Glossary saved to {Path(path).name}.")

    def save(self) -> None:
        """Write every pair's glossary to the data folder now."""
        self._save_timer.stop()
        try:
            self._store.save()
        except OSError as exc:
            self.panel.show_error(f"The glossaries could not be saved: {exc.strerror or exc}.")

    def _fill(self, glossary: Glossary) -> None:
        self.panel.glossary.set_entries(
            [(t.source, t.target) for t in glossary.terms], glossary.keep
        )

    def _on_edited(self) -> None:
        self._store.put(self._pair, self.current())
        self._save_timer.start()
