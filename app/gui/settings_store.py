"""The one owner of the app-wide settings while the window runs: it alone reads them, writes
them and announces a change, so presenters neither share a `Settings` object through
another presenter nor save the file themselves. GUI thread only.

The settings themselves (fields, defaults, the JSON file) are Qt-free in app/config/settings.py,
which the CLI reads directly.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal

from app.config.settings import Settings, load_settings, save_settings


class SettingsStore(QObject):
    """Signals: ``changed(Settings)`` after every update (the new value),
    ``saveFailed(str)`` when the file could not be written (a plain message; the new value
    still holds for this run)."""

    changed = Signal(object)
    saveFailed = Signal(str)

    def __init__(
        self, path: Path, initial: Settings | None = None, parent: QObject | None = None
    ) -> None:
        """`initial`: the settings to start from; read from `path` when None."""
        super().__init__(parent)
        self.path = path
        self._settings = initial if initial is not None else load_settings(path)

    @property
    def settings(self) -> Settings:
        return self._settings

    def update(self, **changes: Any) -> Settings:
        """Apply `changes` (Settings field names), save, announce; returns the new value.

        Nothing is announced or written when nothing changed. A failed write does not undo
        the change: the user asked for it, and losing it on a full disk would be worse than
        keeping it until the next start."""
        new = replace(self._settings, **changes)
        if new == self._settings:
            return new
        self._settings = new
        try:
            save_settings(self.path, new)
        except OSError as exc:
            reason = exc.strerror or str(exc)
            self.saveFailed.emit(
                f"Your settings could not be saved ({reason}). They apply until Hearth closes."
            )
        self.changed.emit(new)
        return new
