"""Edit > Settings (Ctrl+,; issue 15): shows the settings store's values in the Settings dialog
and sends every change the user makes back through the store (the one writer), so the rest
of the app hears of it as of any other change. A failed save is said in the dialog and in
the window (the store's saveFailed). GUI thread only.

The data folder is shown, not edited: it is where the chat history already is, and moving it
while it is open would be a copy with its own failures. HEARTH_HOME picks another one at
start; the dialog says so.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence

from PySide6.QtCore import QObject, QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QWidget

from app.config.paths import HearthPaths
from app.config.settings import FONT_SIZES, Settings
from app.gui.settings_store import SettingsStore
from ui.dialogs.settings_dialog import SettingsDialog, SettingsValues

GIB = 1 << 30


def data_note(paths: HearthPaths, hearth_home: str | None) -> str:
    """How the data folder was chosen, and how to use another one (honestly: at start)."""
    if hearth_home:
        return (
            "Chosen with the HEARTH_HOME environment variable. To use another folder, start "
            "Hearth with HEARTH_HOME set to it."
        )
    return (
        "The standard place for app data on this system. To keep Hearth's data elsewhere, "
        "start Hearth with the environment variable HEARTH_HOME set to that folder; nothing "
        "is moved, so copy this folder there first to keep your chats and models."
    )


class SettingsPresenter(QObject):
    """`models`: (name, path) of the models offered (the chat's model picker lists them);
    `current_model`: the path of the model in use or being loaded ("" none);
    `switch_model`: use another model now and at every start (EngineSession.switch);
    `set_context_policy`: the chat page's own handler (it also recounts the context)."""

    def __init__(
        self,
        parent: QWidget,
        store: SettingsStore,
        paths: HearthPaths,
        *,
        models: Callable[[], Sequence[tuple[str, str]]],
        current_model: Callable[[], str],
        switch_model: Callable[[str], None],
        set_context_policy: Callable[[str], None],
    ) -> None:
        super().__init__(parent)
        self._parent = parent
        self.store = store
        self.paths = paths
        self._models = models
        self._current_model = current_model
        self._switch_model = switch_model
        self._set_context_policy = set_context_policy
        self._dialog: SettingsDialog | None = None
        store.changed.connect(self._on_settings)
        store.saveFailed.connect(self._on_save_failed)

    @property
    def dialog(self) -> SettingsDialog:
        """Built on first use: start-up does not pay for a dialog it may never show."""
        if self._dialog is None:
            dialog = self._dialog = SettingsDialog(FONT_SIZES, self._parent)
            dialog.themeChosen.connect(lambda theme: self._update(theme=theme))
            dialog.fontSizeChosen.connect(lambda size: self._update(font_size=size))
            dialog.autoTitlesChosen.connect(lambda on: self._update(auto_titles=on))
            dialog.budgetChosen.connect(
                lambda gib: self._update(kv_states_budget_bytes=round(gib * GIB))
            )
            dialog.policyChosen.connect(self._choose_policy)
            dialog.modelChosen.connect(self._choose_model)
            dialog.openFolderRequested.connect(self.open_folder)
        return self._dialog

    def open(self) -> None:
        dialog = self.dialog
        dialog.show_error("")
        self._show(self.store.settings)
        dialog.show()
        dialog.raise_()
        dialog.activateWindow()

    def open_folder(self) -> None:
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(self.paths.data_dir)))

    def values(self, settings: Settings) -> SettingsValues:
        models = list(self._models())
        current = self._current_model() or settings.model_path or ""
        return SettingsValues(
            data_folder=str(self.paths.data_dir),
            data_note=data_note(self.paths, os.environ.get("HEARTH_HOME")),
            models=models,
            model_path=current,
            policy=settings.context_policy,
            auto_titles=settings.auto_titles,
            theme=settings.theme,
            font_size=settings.font_size,
            budget_gib=round(settings.kept_states(self.paths.kv_states_dir).budget_bytes / GIB, 1),
        )

    # ---- changes ---------------------------------------------------------------------------

    def _update(self, **changes: object) -> None:
        self.dialog.show_error("")
        self.store.update(**changes)

    def _choose_policy(self, policy: str) -> None:
        self.dialog.show_error("")
        self._set_context_policy(policy)

    def _choose_model(self, path: str) -> None:
        if path and path != self._current_model():
            self.dialog.show_error("")
            self._switch_model(path)

    def _on_settings(self, settings: Settings) -> None:
        if self._dialog is not None and self._dialog.isVisible():
            self._show(settings)  # a change made elsewhere (the chat page, the Models page)

    def _on_save_failed(self, message: str) -> None:
        if self._dialog is not None and self._dialog.isVisible():
            self._dialog.show_error(message)

    def _show(self, settings: Settings) -> None:
        self.dialog.show_values(self.values(settings))
