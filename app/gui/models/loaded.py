"""The Models page's loaded-model panel: what the engine reports after a load (the truth,
not the request), its memory as it is now, and which installed row is in use. It follows the
app's engine session (app/gui/session.py) and switches the chat's model through it.

Threads: GUI thread only; the engine's signals arrive queued from its reader thread.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import psutil
from PySide6.QtCore import QObject

from app.config.paths import HearthPaths
from app.gui.models.views import loaded_view
from app.gui.session import EngineSession
from app.models.catalog import name_for
from app.models.settings import AUTO, ModelSettingsStore
from inference.protocol import EngineSettings, ErrorKind, ModelInfo, Sampling
from ui.main_window import MainWindow
from ui.models.page import ModelsPage


def resolved(path: str | Path) -> str:
    """The form paths are compared in: the engine and the picker use resolved paths."""
    return str(Path(path).resolve())


def loaded_path(session: EngineSession) -> str:
    """The resolved path of the model in use (or chosen, while it loads); "" for none."""
    info = session.info
    path = info.path if info is not None else session.store.settings.model_path
    return resolved(path) if path else ""


def local_choice(session: EngineSession) -> str:
    """The resolved path of the local model the chat uses, or goes back to while a server's
    model is in use (the last one asked for, else the settings' own); "" for none. A model
    outside the models folder is listed from this, so a server's model must not hide it."""
    if session.remote is None:
        return loaded_path(session)
    path = session.model_path or session.store.settings.model_path
    return resolved(path) if path else ""


def engine_rss(pid: int | None) -> int:
    """Resident bytes of the engine process (0 when it is gone or cannot be read)."""
    if pid is None:
        return 0
    try:
        return int(psutil.Process(pid).memory_info().rss)
    except psutil.Error:  # gone or not permitted
        return 0


class LoadedModel(QObject):
    """`engine_settings(path)` is what a load of `path` asks for (app/gui/models/settings_form.py),
    so the panel can tell what the engine did with the request."""

    def __init__(
        self,
        window: MainWindow,
        page: ModelsPage,
        session: EngineSession,
        paths: HearthPaths,
        store: ModelSettingsStore,
        engine_settings: Callable[[str], tuple[EngineSettings, Sampling, str | None]],
    ) -> None:
        super().__init__(page)
        self.window = window
        self.page = page
        self.session = session
        self.paths = paths
        self.store = store
        self.engine_settings = engine_settings
        # The engine's info as loaded: it is the chat's own while no other load is under
        # way, so the figure shown after a re-read lives apart, in _rss_shown.
        self._loaded_info: ModelInfo | None = None
        self._rss_shown = 0
        session.loaded.connect(self._on_model_loaded)
        session.loadProgressed.connect(self._on_load_progress)
        session.crashed.connect(lambda _reason: self._on_engine_gone())
        session.loadFailed.connect(self._on_load_failed)
        # What the engine holds grows after a load (mmapped weights are read in as the model
        # runs): read it again after each reply and whenever the page is shown.
        session.client.generationFinished.connect(
            lambda _request, _done: self.refresh_engine_memory()
        )
        window.pages.currentChanged.connect(self._on_page_changed)
        page.useRequested.connect(self.use)
        page.settings_form.reloadRequested.connect(self.reload)
        if session.info is not None:
            self._on_model_loaded(session.info)

    def use(self, path: str) -> None:
        """Chat with this model: the engine swaps it in (one click)."""
        name = name_for(path, self.paths.models_dir)
        self.page.loaded_panel.show_loading(f"Loading {name}…")
        self.session.switch(path)

    def reload(self) -> None:
        """Load the model in use again, so the settings that need a reload apply."""
        path = loaded_path(self.session)
        if path:
            self.page.settings_form.reload_bar.hide()
            self.use(path)

    def _on_load_progress(self, fraction: float, text: str) -> None:
        self.page.loaded_panel.show_loading(f"{text} {fraction:.0%}")

    def _on_model_loaded(self, info: ModelInfo) -> None:
        remote = self.session.remote
        if remote is not None:  # a server's model (issue 14): no local file, memory or GPU
            self._loaded_info = None
            self.page.loaded_panel.show_loading(f"The chat uses {remote.label} on a server.")
            self.page.loaded_panel.backend_label.setText(info.backend)
            self.mark_in_use("")
            return
        self._loaded_info = info
        self._rss_shown = info.memory.rss_bytes if info.memory is not None else 0
        self._show_loaded(info)
        self.mark_in_use(resolved(info.path))

    def _show_loaded(self, info: ModelInfo) -> None:
        own = self.store.get(info.path)
        requested = self.engine_settings(info.path)[0].n_gpu_layers
        view = loaded_view(info, requested, auto=own.n_gpu_layers == AUTO)
        self.page.loaded_panel.show_loaded(view)

    def _on_page_changed(self, _index: int) -> None:
        if self.window.pages.currentWidget() is self.page:
            self.refresh_engine_memory()

    def refresh_engine_memory(self) -> None:
        """Show the engine process's resident memory as it is now (not just after load)."""
        info = self._loaded_info
        if info is None or info.memory is None or self.session.info is not info:
            return  # nothing loaded, or another load is under way
        rss = engine_rss(self.session.client.pid)
        if rss and rss != self._rss_shown:
            self._rss_shown = rss
            self._show_loaded(replace(info, memory=replace(info.memory, rss_bytes=rss)))

    def mark_in_use(self, loaded: str) -> None:
        """Mark the row of the resolved path `loaded` as in use ("" marks none)."""
        rows = self.page.rows()
        if rows and any((resolved(r.path) == loaded) != r.in_use for r in rows):
            self.page.show_installed([replace(r, in_use=resolved(r.path) == loaded) for r in rows])

    def _on_load_failed(self, _path: str, kind: str, message: str) -> None:
        # The model file itself was refused; other failures the chat page tells.
        if kind != ErrorKind.MODEL_FILE:
            return
        path = self.session.store.settings.model_path
        title = "No model is loaded."
        if path:
            name = f"{name_for(path, self.paths.models_dir)} ({Path(path).name})"
            title = f"{name} could not be loaded; no model is loaded."
        self.page.loaded_panel.show_failed(title, message)
        self.mark_in_use("")  # the engine dropped the old model before trying this one

    def _on_engine_gone(self) -> None:
        self.page.loaded_panel.show_loading("The engine stopped; no model is loaded.")
        self.mark_in_use("")
