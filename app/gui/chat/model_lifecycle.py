"""Which model the chat uses: preparing the built-in one, loading, switching, and what a
crashed engine leaves behind. A mixin of ChatController (app/gui/chat/controller.py)."""

from __future__ import annotations

import threading
from dataclasses import replace
from pathlib import Path

from PySide6.QtCore import QObject, Signal

from app.chat.reply_sampling import chat_sampling
from app.config.paths import HearthPaths
from app.config.settings import Settings, save_settings
from app.gui.chat.context_state import ContextState
from app.gui.chat.storage_errors import StorageErrors, reports_storage_errors
from app.gui.chat.turn import Turn
from app.models.catalog import name_for
from app.models.default_model import (
    DEFAULT_MODEL_NOTICE,
    DefaultModelError,
    default_model_path,
    ensure_default_model,
    is_default_model,
)
from app.models.names import display_name
from app.models.settings import engine_settings_for, load_model_settings
from inference.client import EngineClient
from inference.protocol import EngineSettings, ModelInfo, Sampling
from storage.chats import ConversationRepository
from storage.records import MessageStatus


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


class ModelLifecycle(StorageErrors):
    """Part of ChatController: the attributes below are set in its __init__."""

    client: EngineClient
    conversations: ConversationRepository
    paths: HearthPaths
    context: ContextState
    modelReady: Signal
    model_info: ModelInfo | None
    _settings: Settings
    _choices: tuple[EngineSettings, Sampling, str | None] | None
    _load_request: int | None
    _model_path: str | None
    _preparer_thread: threading.Thread | None
    _turn: Turn | None

    def load_model(self) -> None:
        if self.settings.model_path:
            self._load(self.settings.model_path)
            return
        self.window.show_loading(None, "Preparing the built-in model…")
        preparer = _Preparer(self)
        preparer.progressed.connect(
            lambda f: self.window.show_loading(f, "Preparing the built-in model…")
        )
        preparer.finished.connect(self._on_default_model_ready)
        self._preparer_thread = preparer.start(self.paths.models_dir)

    def _on_default_model_ready(self, path: str, error: str) -> None:
        if self._preparer_thread is not None:
            self._preparer_thread.join()
            self._preparer_thread = None
        if error:
            self.window.hide_loading()
            self.window.show_error(error)
            return
        self._load(path)

    @property
    def settings(self) -> Settings:
        return self._settings

    @settings.setter
    def settings(self, value: Settings) -> None:
        self._settings = value
        self._choices = None  # derived from the settings: resolved again on next use

    def _model_choices(self) -> tuple[EngineSettings, Sampling, str | None]:
        """App-wide settings with the current model's own (Models page) on top: how it is
        loaded, how replies sample, its default system prompt. Resolved once per load (it
        reads a file, and Auto GPU layers asks the GPU driver), not once per message."""
        if self._choices is None:
            path = self._model_path or ""
            own = load_model_settings(self.paths.data_dir, path) if path else None
            self._choices = engine_settings_for(self.settings, path, own)
        return self._choices

    def model_sampling(self) -> tuple[Sampling, int]:
        """How replies sample and how long they may be before a chat's own values apply."""
        return self._model_choices()[1], self.settings.max_tokens

    def _reply_sampling(self, conversation_id: int | None) -> tuple[Sampling, int]:
        record = self.conversations.get(conversation_id) if conversation_id is not None else None
        return chat_sampling(*self.model_sampling(), record.sampling if record else {})

    def sampling_changed(self) -> None:
        """A chat's sampling changed: the budget shown depends on its reply length."""
        self.context.recount()

    def _load(self, model_path: str) -> None:
        self._model_path = model_path
        self._choices = None  # the model's own settings may have changed since
        self.model_info = None
        self.context.model_changed()
        self.window.show_loading(0.0, f"Loading {name_for(model_path, self.paths.models_dir)}…")
        self._load_request = self.client.load(self._model_choices()[0])

    def _on_load_progress(self, request_id: int, fraction: float, text: str) -> None:
        if request_id == self._load_request:
            self.window.show_loading(fraction, text)

    def _on_loaded(self, request_id: int, info: ModelInfo) -> None:
        if request_id != self._load_request:
            return
        self._load_request = None
        self.model_info = info
        self.window.hide_loading()
        name = display_name(info.name, info.quantization, info.path)
        self.window.set_model_info(name, info.chat_format_label, info.backend)
        self.window.model_picker.set_current(str(Path(info.path).resolve()), name)
        is_default = Path(info.path).name == default_model_path(self.paths.models_dir).name
        if is_default and not self.settings.default_model_notice_dismissed:
            self.window.show_banner(DEFAULT_MODEL_NOTICE)
        requested = self._model_choices()[0].n_gpu_layers
        if requested != 0 and not info.gpu_offload_supported:
            self.window.show_error(
                "GPU offload was requested, but this llama.cpp build has no GPU support, so "
                "the model runs on the CPU. For an NVIDIA GPU, rebuild it: "
                'make clean-venv && make CMAKE_ARGS="-DGGML_CUDA=on" setup (the Models page '
                "shows the details)."
            )
        self.context.recount()
        self.modelReady.emit(info)

    def switch_model(self, model_path: str) -> None:
        """Use another model: the engine unloads the old one (freeing its memory) first."""
        if self._turn is not None:
            self.stop()
        # The built-in model is remembered as "none chosen" (None): every start then makes
        # sure it is unpacked, which it may not be yet (first start) or no longer be.
        builtin = is_default_model(model_path, self.paths.models_dir)
        self.settings = replace(self.settings, model_path=None if builtin else model_path)
        save_settings(self.paths.settings_file, self.settings)
        self.window.hide_banner()
        if builtin:
            self.load_model()
        else:
            self._load(model_path)

    def dismiss_default_notice(self) -> None:
        self.settings = replace(self.settings, default_model_notice_dismissed=True)
        save_settings(self.paths.settings_file, self.settings)

    @property
    def is_loading(self) -> bool:
        """A model load is under way (the engine answers once it is done)."""
        return self._load_request is not None or self._preparer_thread is not None

    def set_context_policy(self, policy: str) -> None:
        self.settings = replace(self.settings, context_policy=policy)
        save_settings(self.paths.settings_file, self.settings)
        self.context.recount()

    @reports_storage_errors
    def _on_crashed(self, reason: str) -> None:
        self.model_info = None
        self.context.model_changed()
        self._load_request = None
        self.window.hide_loading()
        turn = self._turn
        if turn is not None:
            self._end_turn()
            record = self._finish_reply(turn, turn.text, MessageStatus.INTERRUPTED, error=reason)
            self._show_finished(record)
        self.window.set_model_info("no model loaded", "", "engine stopped")
        self.window.show_error(
            f"{reason} Your chat is saved. The next message starts the engine again."
        )
