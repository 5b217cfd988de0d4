"""Stores, shares and applies presets (named system prompt + sampling settings)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path

from PySide6.QtCore import QObject

from app.chat.presets_io import PresetFileError, export_presets, read_presets
from app.gui.chat.navigation import ChatNavigation
from app.gui.settings_store import SettingsStore
from storage.chats import ConversationRepository
from storage.errors import DatabaseError, PresetNameTakenError
from storage.presets import SAMPLING_KEYS, PresetRepository
from ui.chat.presets_dialog import PresetsDialog


class PresetsController(QObject):
    """Takes what it uses, not the chat presenter: `settings` gives the app's sampling (a
    new preset's defaults), `chat` says which chat a preset is used in, `conversations`
    stores it there, and `on_sampling_changed` is called after that chat's sampling changed.
    """

    def __init__(
        self,
        dialog: PresetsDialog,
        repository: PresetRepository,
        settings: SettingsStore,
        chat: ChatNavigation,
        conversations: ConversationRepository,
        on_sampling_changed: Callable[[], None],
    ) -> None:
        super().__init__(dialog)
        self.dialog = dialog
        self.repository = repository
        self.settings = settings
        self.chat = chat
        self.conversations = conversations
        self.on_sampling_changed = on_sampling_changed
        dialog.saveRequested.connect(self.save)
        dialog.deleteRequested.connect(self.delete)
        dialog.duplicateRequested.connect(self.duplicate)
        dialog.importRequested.connect(self.import_file)
        dialog.exportRequested.connect(self.export_file)
        dialog.applyRequested.connect(self.apply)

    def open(self) -> None:
        settings = asdict(self.settings.settings)
        self.dialog.set_defaults({k: settings[k] for k in SAMPLING_KEYS})
        self._refresh()
        self.dialog.show()
        self.dialog.raise_()

    def save(self, preset_id: int, name: str, prompt: str, sampling: dict) -> None:
        try:
            saved = self.repository.save(name, prompt, sampling, preset_id or None)
        except (PresetNameTakenError, ValueError, DatabaseError) as exc:
            self.dialog.say(str(exc))
            return
        self._refresh(saved.id)
        self.dialog.say(f"Saved “{saved.name}”.")

    def delete(self, preset_id: int) -> None:
        self.repository.delete(preset_id)
        self._refresh()
        self.dialog.say("Preset deleted.")

    def duplicate(self, preset_id: int) -> None:
        original = next((p for p in self.repository.list() if p.id == preset_id), None)
        if original is None:
            return
        name = self.repository.unique_name(f"{original.name} copy")
        copy = self.repository.save(name, original.system_prompt, original.sampling)
        self._refresh(copy.id)
        self.dialog.say(f"Duplicated as “{copy.name}”.")

    def import_file(self, path: str) -> None:
        try:
            presets = read_presets(Path(path))
        except PresetFileError as exc:
            self.dialog.say(str(exc))
            return
        for preset in presets:  # validated whole above: this cannot fail half-way on input
            self.repository.save(
                self.repository.unique_name(preset.name), preset.system_prompt, preset.sampling
            )
        self._refresh()
        self.dialog.say(f"Imported {len(presets)} preset{'s' if len(presets) != 1 else ''}.")

    def export_file(self, path: str) -> None:
        presets = self.repository.list()
        try:
            export_presets(presets, Path(path))
        except PresetFileError as exc:
            self.dialog.say(str(exc))
            return
        self.dialog.say(f"Exported {len(presets)} presets to {path}.")

    def apply(self, preset_id: int) -> None:
        """This chat gets the preset's system prompt and sampling settings (values the preset
        leaves out follow the model's defaults); other chats keep theirs."""
        preset = next((p for p in self.repository.list() if p.id == preset_id), None)
        if preset is None:
            return
        conversation_id = self.chat.current_conversation
        if conversation_id is None:
            self.dialog.say("Open a chat first, then use the preset in it.")
            return
        try:
            self.conversations.set_system_prompt(conversation_id, preset.system_prompt)
            self.conversations.set_sampling(conversation_id, preset.sampling)
        except DatabaseError as exc:
            self.dialog.say(str(exc))
            return
        self.on_sampling_changed()
        self.dialog.say(f"“{preset.name}” is in use for this chat.")

    def _refresh(self, select_id: int | None = None) -> None:
        self.dialog.set_presets(self.repository.list(), select_id)
