"""The one owner of an engine's life: it alone creates its EngineClient, prepares the built-in
model, loads and switches models, knows the model loaded, and notices a crash.

The chat has one session (the app's engine, shared with the Documents and Translate pages
through EngineBridge); the Translate page's translation-only model is a second one, so a model
picked for translating does not replace the chat's. Presenters ask a session for the client to
send requests (generate, count tokens) and follow its signals to show what happens; none of
them loads a model or restarts an engine itself.

Only the chat's session remembers the chosen model in the settings (`remembers_choice`): a
switch there is the user's choice of the model Hearth starts with, while the Translate page's
model is for this run only. The flag lives here rather than in the chat presenter because
what is remembered is the session's business (the built-in model is remembered as "none
chosen", so every start makes sure it is unpacked), and the Models page switches the chat's
model through the session too.

GUI thread only. The built-in model is assembled on a worker thread (`_Preparer`); its
signals come back queued.
"""

from __future__ import annotations

import threading
from pathlib import Path

from PySide6.QtCore import QObject, Signal

from app.config.paths import HearthPaths
from app.gui.settings_store import SettingsStore
from app.models.default_model import (
    DefaultModelError,
    default_model_path,
    ensure_default_model,
    is_default_model,
)
from app.models.settings import engine_settings_for, load_model_settings
from inference.client import EngineClient
from inference.protocol import EngineSettings, ModelInfo, Sampling

Choices = tuple[EngineSettings, Sampling, str | None]


class _Preparer(QObject):
    """Assembles the default model off the GUI thread (250 MB copy + hash on first start)."""

    progressed = Signal(float)
    finished = Signal(str, str)  # path, error

    def start(self, models_dir: Path) -> threading.Thread:
        def work() -> None:
            try:
                path = ensure_default_model(models_dir, self.progressed.emit)
                self.finished.emit(str(path), "")
            except DefaultModelError as exc:
                self.finished.emit("", str(exc))

        thread = threading.Thread(target=work, name="prepare-default-model", daemon=True)
        thread.start()
        return thread


class EngineSession(QObject):
    """Signals, in the order a load goes through them:

    - ``switching(path)``: the user picked another model (`switch`), before anything changes.
    - ``preparing(fraction | None)``: the built-in model is being assembled.
    - ``preparationFailed(message)``: it could not be (a plain message).
    - ``loadStarted(path)``: the engine is asked to load `path`; the old model is forgotten.
    - ``loadProgressed(fraction, text)``: the engine's own progress report.
    - ``loaded(ModelInfo)``: what the engine really loaded.
    - ``loadFailed(path, kind, message)``: the load failed (ErrorKind, first line in plain words).
    - ``crashed(reason)``: the engine process died; the model is forgotten and the next
      request (`restart`, `load`) starts a fresh engine.
    """

    switching = Signal(str)
    preparing = Signal(object)
    preparationFailed = Signal(str)
    loadStarted = Signal(str)
    loadProgressed = Signal(float, str)
    loaded = Signal(object)
    loadFailed = Signal(str, str, str)
    crashed = Signal(str)

    def __init__(
        self,
        store: SettingsStore,
        paths: HearthPaths,
        *,
        remembers_choice: bool = True,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.store = store
        self.paths = paths
        self.remembers_choice = remembers_choice
        self.client = EngineClient(self)
        self.info: ModelInfo | None = None
        self._model_path: str | None = None  # the model asked for last
        self._choices: Choices | None = None
        self._load_request: int | None = None
        self._preparer_thread: threading.Thread | None = None
        self.client.loadProgressed.connect(self._on_load_progress)
        self.client.modelLoaded.connect(self._on_loaded)
        self.client.requestFailed.connect(self._on_failed)
        self.client.engineCrashed.connect(self._on_crashed)
        # The app-wide settings are part of every choice: resolved again on next use.
        store.changed.connect(self._forget_choices)

    # ---- what is loaded -------------------------------------------------------------------

    @property
    def model_path(self) -> str | None:
        """The model asked for last (loading or loaded); None before the first load."""
        return self._model_path

    @property
    def is_loading(self) -> bool:
        """A model load is under way (the engine answers once it is done)."""
        return self._load_request is not None or self._preparer_thread is not None

    def choices(self) -> Choices:
        """App-wide settings with the current model's own (Models page) on top: how it is
        loaded, how replies sample, its default system prompt. Resolved once per load (it
        reads a file, and Auto GPU layers asks the GPU driver), not once per message."""
        if self._choices is None:
            path = self._model_path or ""
            own = load_model_settings(self.paths.data_dir, path) if path else None
            self._choices = engine_settings_for(self.store.settings, path, own)
        return self._choices

    def _forget_choices(self, _settings: object = None) -> None:
        self._choices = None

    # ---- loading --------------------------------------------------------------------------

    def load_chosen(self) -> None:
        """Load the model the settings name; with none chosen, the built-in one (assembled
        first on a worker thread when it is not unpacked yet)."""
        chosen = self.store.settings.model_path
        if chosen:
            self.load(chosen)
            return
        self.preparing.emit(None)
        preparer = _Preparer(self)
        preparer.progressed.connect(self._on_prepare_progress)
        preparer.finished.connect(self._on_default_model_ready)
        self._preparer_thread = preparer.start(self.paths.models_dir)

    def _on_prepare_progress(self, fraction: float) -> None:
        # A method of this GUI-thread object, so the worker's signal arrives queued here.
        self.preparing.emit(fraction)

    def _on_default_model_ready(self, path: str, error: str) -> None:
        if self._preparer_thread is not None:
            self._preparer_thread.join()
            self._preparer_thread = None
        if error:
            self.preparationFailed.emit(error)
            return
        self.load(path)

    def load(self, model_path: str) -> None:
        """Ask the engine to load `model_path` (it unloads the old model first); not
        remembered in the settings."""
        self._model_path = model_path
        self._choices = None  # the model's own settings may have changed since
        self.info = None
        self.loadStarted.emit(model_path)
        self._load_request = self.client.load(self.choices()[0])

    def switch(self, model_path: str) -> None:
        """Use another model: announced first (so a reply in progress can stop), remembered
        for the next start when this session `remembers_choice`, then loaded."""
        self.switching.emit(model_path)
        # The built-in model is remembered as "none chosen" (None): every start then makes
        # sure it is unpacked, which it may not be yet (first start) or no longer be.
        builtin = is_default_model(model_path, self.paths.models_dir)
        if self.remembers_choice:
            self.store.update(model_path=None if builtin else model_path)
            if builtin:
                self.load_chosen()
                return
        self.load(model_path)

    def restart(self) -> None:
        """With no model and no load under way (the engine crashed, or a load failed), load
        the last model again on a fresh engine (the built-in one when none was asked for)."""
        if self.info is None and self._load_request is None:
            self.load(self._model_path or str(default_model_path(self.paths.models_dir)))

    # ---- what the engine says ---------------------------------------------------------------

    def _on_load_progress(self, request_id: int, fraction: float, text: str) -> None:
        if request_id == self._load_request:
            self.loadProgressed.emit(fraction, text)

    def _on_loaded(self, request_id: int, info: ModelInfo) -> None:
        if request_id != self._load_request:
            return
        self._load_request = None
        self.info = info
        self.loaded.emit(info)

    def _on_failed(self, request_id: int, kind: str, message: str) -> None:
        if request_id != self._load_request:
            return
        self._load_request = None
        self.loadFailed.emit(self._model_path or "", kind, message.split("\n", 1)[0])

    def _on_crashed(self, reason: str) -> None:
        self.info = None
        self._load_request = None
        self.crashed.emit(reason)

    # ---- the end ----------------------------------------------------------------------------

    def shutdown(self) -> None:
        """Stop the engine for good (a preparation under way is waited for first); safe to
        call more than once. Requests after this fail instead of starting a new engine."""
        self.info = None
        if self._preparer_thread is not None:
            self._preparer_thread.join()
            self._preparer_thread = None
        self.client.shutdown()
