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

A model on a remote server (issue 14) is chosen through the session too (`use_remote`): its
client (a BackendSwitch) then sends every request to that server and never loads a local
model; `load`/`switch` to a local model go back to the local engine (loading the model
again). Choosing a server's model unloads the local model, freeing its memory while the
engine process stays up. The local engine process is started only by a local load or request.
The chat's session remembers a server's model as it remembers a local one (settings
`remote_connection`, `remote_model`): `load_chosen` connects to it again, and when that server
cannot be reached it says so and loads the local model instead, so a server that is down
never leaves the chat without a model.

GUI thread only. The built-in model is assembled as a task (app/gui/tasks.py): a 250 MB copy
and hash on first start, off the GUI thread; closing Hearth stops it between blocks.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QObject, Signal

from app.config.connections import Connection
from app.config.paths import HearthPaths
from app.gui.backend_switch import BackendSwitch
from app.gui.remote_client import RemoteClient
from app.gui.settings_store import SettingsStore
from app.gui.tasks import Task, TaskContext, TaskRunner
from app.models.connection_keys import load_api_key
from app.models.default_model import (
    DefaultModelError,
    default_model_path,
    ensure_default_model,
    is_default_model,
)
from app.models.settings import engine_settings_for, load_model_settings
from inference.client import EngineClient
from inference.protocol import ChatMessage, EngineSettings, KeptStates, ModelInfo, Sampling

Choices = tuple[EngineSettings, Sampling, str | None]


@dataclass(frozen=True)
class RemoteChoice:
    """A model on a server: the connection it is reached through and the server's model id."""

    connection: Connection
    model: str

    @property
    def label(self) -> str:
        """How the window names it: "qwen2.5-7b · gpu-box"."""
        return f"{self.model} · {self.connection.name}"


LOCAL_FALLBACK = (
    "The chat uses the local model meanwhile; choose the server's model again in the model "
    "list once the server is up."
)
# Closing while the built-in model is assembled: it stops at its next 4 MB block.
PREPARE_STOP_S = 5.0


class EngineSession(QObject):
    """Signals, in the order a load goes through them:

    - ``switching(path)``: the user picked another model (`switch`, or `use_remote` with the
      remote model's label), before anything changes.
    - ``preparing(fraction | None)``: the built-in model is being assembled.
    - ``preparationFailed(message)``: it could not be (a plain message).
    - ``loadStarted(path)``: the engine is asked to load `path` (a remote model: its label,
      and `remote` is set); the old model is forgotten.
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
        self.local = EngineClient(self)
        # What presenters send through: the local engine, or the chosen server's model.
        self.client = BackendSwitch(self.local, self)
        # The model on a server in use (None: a local model); `info` is then the server's.
        self.remote: RemoteChoice | None = None
        self.info: ModelInfo | None = None
        # What the loaded model was loaded with (None while none is): choices() follows the
        # settings as they change, this stays what the engine really holds until a reload.
        self.loaded_settings: EngineSettings | None = None
        self._load_settings: EngineSettings | None = None  # of the load under way
        self._model_path: str | None = None  # the model asked for last
        self._choices: Choices | None = None
        self._load_request: int | None = None
        self._tasks = TaskRunner(self)
        self._before_stop: list[Callable[[], None]] = []
        self._preparing: Task[Path] | None = None
        # A server's model chosen at start: the local model is loaded if it cannot be reached.
        self._fallback = False
        self.client.loadProgressed.connect(self._on_load_progress)
        self.client.modelLoaded.connect(self._on_loaded)
        self.client.requestFailed.connect(self._on_failed)
        self.client.engineCrashed.connect(self._on_crashed)
        # The app-wide settings are part of every choice: resolved again on next use.
        store.changed.connect(self._forget_choices)
        # The kept states' budget reaches the running engine at once (issue 13).
        self._state_budget = self._kept_states().budget_bytes
        store.changed.connect(self._send_state_budget)

    # ---- what is loaded -------------------------------------------------------------------

    @property
    def model_path(self) -> str | None:
        """The model asked for last (loading or loaded); None before the first load."""
        return self._model_path

    @property
    def is_loading(self) -> bool:
        """A model load is under way (the engine answers once it is done)."""
        return self._load_request is not None or self._preparing is not None

    def choices(self) -> Choices:
        """App-wide settings with the current model's own (Models page) on top: how it is
        loaded, how replies sample, its default system prompt. Resolved once per load (it
        reads a file, and Auto GPU layers asks the GPU driver), not once per message."""
        if self._choices is None:
            # A server's model has no per-model settings here: the app-wide ones apply.
            path = (self._model_path or "") if self.remote is None else ""
            own = load_model_settings(self.paths.data_dir, path) if path else None
            self._choices = engine_settings_for(self.store.settings, path, own)
        return self._choices

    def _forget_choices(self, _settings: object = None) -> None:
        self._choices = None

    def _kept_states(self) -> KeptStates:
        return self.store.settings.kept_states(
            self.paths.kv_states_dir, self.paths.draft_speeds_file
        )

    def _send_state_budget(self, _settings: object = None) -> None:
        """A budget changed (Models page, settings): the running local engine shrinks its
        kept states now; one not running gets it with its next load."""
        budget = self._kept_states().budget_bytes
        if budget != self._state_budget:
            self._state_budget = budget
            self.local.set_state_budget(budget)

    def warm(self, messages: Sequence[ChatMessage], state_key: str, typing: str = "") -> int | None:
        """Ask the local engine to restore a just opened chat's kept KV state (issue 13;
        protocol.WarmRequest) and to read `typing`, the unsent text, ahead: when a local
        model is loaded and no load is under way. Without a budget for kept states only the
        reading ahead is asked for (nothing to restore). Returns the request id, None when
        nothing was sent."""
        if self.remote is not None or self.info is None or self.is_loading:
            return None
        if self._state_budget <= 0:
            if not typing:
                return None
            state_key = ""
        return self.client.warm(messages, state_key, typing)

    # ---- loading --------------------------------------------------------------------------

    def load_chosen(self) -> None:
        """Load the model the settings name: a server's model (its connection kept) is
        connected to, with the local model as the fallback when the server cannot be reached;
        otherwise the local model, with none chosen the built-in one (assembled first on a
        worker thread when it is not unpacked yet)."""
        remote = self._remembered_remote()
        if remote is not None:
            self.use_remote(*remote, fallback=True)
            return
        self._load_local_chosen()

    def _remembered_remote(self) -> tuple[Connection, str] | None:
        settings = self.store.settings
        if not (self.remembers_choice and settings.remote_connection and settings.remote_model):
            return None
        for connection in settings.connections:
            if connection.name == settings.remote_connection:
                return connection, settings.remote_model
        # Its connection was removed (a hand edit, another version): forget the choice.
        self.store.update(remote_connection="", remote_model="")
        return None

    def _load_local_chosen(self) -> None:
        self._leave_remote()
        chosen = self.store.settings.model_path
        if chosen:
            self.load(chosen)
            return
        self.preparing.emit(None)
        models_dir = self.paths.models_dir

        def prepare(context: TaskContext) -> Path:  # worker thread
            return ensure_default_model(models_dir, context.report)

        self._preparing = self._tasks.start(
            prepare,
            name="prepare-default-model",
            expected=(DefaultModelError,),
            on_progress=self.preparing.emit,
            on_result=self._on_default_model_ready,
            on_error=lambda exc: self.preparationFailed.emit(str(exc)),
            on_finished=self._forget_preparation,
        )

    def _on_default_model_ready(self, path: Path) -> None:
        self._preparing = None  # before load(), so is_loading stays true throughout
        self.load(str(path))

    def _forget_preparation(self) -> None:
        self._preparing = None

    def load(self, model_path: str) -> None:
        """Ask the engine to load `model_path` (it unloads the old model first); not
        remembered in the settings."""
        self._leave_remote()
        self._model_path = model_path
        self._choices = None  # the model's own settings may have changed since
        self.info = None
        self.loaded_settings = None
        self.loadStarted.emit(model_path)
        # The states folder and budget travel with every load: a restarted engine learns
        # them again (a budget changed meanwhile is sent to a running engine at once).
        kept = self._kept_states()
        self._load_settings = self.choices()[0]
        self._load_request = self.client.load(self._load_settings, kept)

    def switch(self, model_path: str) -> None:
        """Use another model: announced first (so a reply in progress can stop), remembered
        for the next start when this session `remembers_choice`, then loaded."""
        self.switching.emit(model_path)
        # The built-in model is remembered as "none chosen" (None): every start then makes
        # sure it is unpacked, which it may not be yet (first start) or no longer be.
        builtin = is_default_model(model_path, self.paths.models_dir)
        if self.remembers_choice:
            self.store.update(
                model_path=None if builtin else model_path, remote_connection="", remote_model=""
            )
            if builtin:
                self.load_chosen()
                return
        self.load(model_path)

    def restart(self) -> None:
        """With no model and no load under way (the engine crashed, or a load failed), load
        the last model again on a fresh engine (the built-in one when none was asked for);
        with a server's model chosen, ask that server again instead."""
        if self.info is None and self._load_request is None:
            if self.remote is not None:
                self._connect_remote()
                return
            self.load(self._model_path or str(default_model_path(self.paths.models_dir)))

    # ---- a model on a server (issue 14) ------------------------------------------------------

    def use_remote(self, connection: Connection, model: str, *, fallback: bool = False) -> None:
        """Use `model` on the server of `connection`: announced (so a reply in progress can
        stop), then the server is asked for it (`loadStarted(label)`, then `loaded(info)` or
        `loadFailed`). No local model is loaded, and the one loaded is unloaded (its memory
        freed; the engine process stays). Remembered for the next start when this session
        `remembers_choice`. `fallback`: when the server cannot be reached, `loadFailed` says
        so and the local model is loaded instead (the start of Hearth). Raises ValueError
        for an address that is not http(s) (the connections presenter checks it before it is
        kept)."""
        choice = RemoteChoice(connection, model)
        remote = RemoteClient(
            connection.base_url, model, lambda: load_api_key(connection.base_url), self
        )
        self.switching.emit(choice.label)
        if self.remembers_choice:
            self.store.update(remote_connection=connection.name, remote_model=model)
        self.remote = choice
        self._fallback = fallback
        self.client.use_remote(remote)
        # A load still under way answers to nobody now; the model it loads is unloaded after
        # it (the engine runs requests in order).
        self._load_request = None
        self.local.unload()
        self._connect_remote()

    def _connect_remote(self) -> None:
        assert self.remote is not None and self.client.remote is not None
        self._choices = None
        self.info = None
        self.loaded_settings = None
        self._load_settings = None
        self.loadStarted.emit(self.remote.label)
        self._load_request = self.client.remote.connect_model()

    def _leave_remote(self) -> None:
        if self.remote is not None:
            self.remote = None
            self._choices = None
            self._load_request = None  # a connect still under way is of no interest now
            self.client.use_local()

    # ---- what the engine says ---------------------------------------------------------------

    def _on_load_progress(self, request_id: int, fraction: float, text: str) -> None:
        if request_id == self._load_request:
            self.loadProgressed.emit(fraction, text)

    def _on_loaded(self, request_id: int, info: ModelInfo) -> None:
        if request_id != self._load_request:
            return
        self._load_request = None
        self._fallback = False
        self.info = info
        self.loaded_settings = self._load_settings
        self.loaded.emit(info)

    def _on_failed(self, request_id: int, kind: str, message: str) -> None:
        if request_id != self._load_request:
            return
        self._load_request = None
        what = self.remote.label if self.remote is not None else self._model_path or ""
        first_line = message.split("\n", 1)[0]
        if self.remote is not None and self._fallback:
            self._fallback = False
            self.loadFailed.emit(what, kind, f"{first_line} {LOCAL_FALLBACK}")
            self._load_local_chosen()
            return
        self.loadFailed.emit(what, kind, first_line)

    def _on_crashed(self, reason: str) -> None:
        if self.remote is not None:
            return  # the local engine is not in use: nothing the user relies on stopped
        self.info = None
        self.loaded_settings = None
        self._load_request = None
        self.crashed.emit(reason)

    # ---- the end ----------------------------------------------------------------------------

    def on_shutdown(self, hook: Callable[[], None]) -> None:
        """Run `hook` when the session shuts down, before its engine stops: the pages whose
        jobs use this engine stop them first (last registered runs first)."""
        self._before_stop.append(hook)

    def shutdown(self) -> None:
        """Stop the engine for good, after the `on_shutdown` hooks (a preparation under way
        stops at its next step); safe to call more than once. Requests after this fail
        instead of starting a new engine."""
        hooks, self._before_stop = self._before_stop, []
        for hook in reversed(hooks):
            hook()
        self.info = None
        self._tasks.shutdown(time.monotonic() + PREPARE_STOP_S)
        self._preparing = None
        self.client.shutdown()
