"""What the chat page says about the model: the loading bar, the model label and picker, the
built-in model's notice, the GPU warning, and why a load failed. It follows the engine session
(app/gui/session.py), which alone loads models; a crash is the chat presenter's to tell, since
it also ends the reply that was being written. GUI thread only."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject

from app.gui.chat.context_state import ContextState
from app.gui.session import EngineSession
from app.gui.settings_store import SettingsStore
from app.models.catalog import name_for
from app.models.default_model import DEFAULT_MODEL_NOTICE, default_model_path
from app.models.names import display_name
from inference.protocol import ModelInfo
from ui.main_window import MainWindow

PREPARING = "Preparing the built-in model…"
NO_GPU_BUILD = (
    "GPU offload was requested, but this llama.cpp build has no GPU support, so "
    "the model runs on the CPU. For an NVIDIA GPU, rebuild it: "
    'make clean-venv && make CMAKE_ARGS="-DGGML_CUDA=on" setup (the Models page '
    "shows the details)."
)


class ModelStatus(QObject):
    def __init__(
        self,
        window: MainWindow,
        session: EngineSession,
        store: SettingsStore,
        context: ContextState,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.window = window
        self.session = session
        self.store = store
        self.context = context
        session.switching.connect(lambda _path: window.hide_banner())
        session.preparing.connect(lambda fraction: window.show_loading(fraction, PREPARING))
        session.preparationFailed.connect(self._on_preparation_failed)
        session.loadStarted.connect(self._on_load_started)
        session.loadProgressed.connect(window.show_loading)
        session.loaded.connect(self._on_loaded)
        session.loadFailed.connect(self._on_load_failed)
        window.banner.dismissed.connect(self.dismiss_default_notice)
        window.model_picker.modelChosen.connect(session.switch)
        window.model_picker.remoteChosen.connect(self.use_remote)

    def use_remote(self, connection_name: str, model: str) -> None:
        """The user chose a model on a server (issue 14): no local model is loaded."""
        connection = next(
            (c for c in self.store.settings.connections if c.name == connection_name), None
        )
        if connection is None:  # removed on the Models page meanwhile
            self.window.show_error(f"There is no connection named {connection_name!r} any more.")
            return
        self.session.use_remote(connection, model)

    def _on_preparation_failed(self, error: str) -> None:
        self.window.hide_loading()
        self.window.show_error(error)

    def _on_load_started(self, model_path: str) -> None:
        self.context.model_changed()
        remote = self.session.remote
        if remote is not None:  # `model_path` is its label
            self.window.show_loading(0.0, f"Connecting to {remote.connection.name}…")
            return
        models_dir = self.session.paths.models_dir
        self.window.show_loading(0.0, f"Loading {name_for(model_path, models_dir)}…")

    def _on_loaded(self, info: ModelInfo) -> None:
        window = self.window
        window.hide_loading()
        remote = self.session.remote
        if remote is not None:  # a server's model: no file, no GPU of ours, no built-in notice
            window.set_model_info(remote.label, info.chat_format_label, info.backend)
            window.model_picker.set_current_remote(remote.connection.name, remote.model)
            self.context.recount()
            return
        name = display_name(info.name, info.quantization, info.path)
        window.set_model_info(name, info.chat_format_label, info.backend)
        window.model_picker.set_current(str(Path(info.path).resolve()), name)
        default = default_model_path(self.session.paths.models_dir)
        is_default = Path(info.path).name == default.name
        if is_default and not self.store.settings.default_model_notice_dismissed:
            window.show_banner(DEFAULT_MODEL_NOTICE)
        requested = self.session.choices()[0].n_gpu_layers
        if requested != 0 and not info.gpu_offload_supported:
            window.show_error(NO_GPU_BUILD)
        self.context.recount()

    def _on_load_failed(self, _path: str, _kind: str, message: str) -> None:
        self.window.hide_loading()
        self.window.model_picker.set_current("")  # nothing is loaded now; say so
        if self.session.remote is not None:  # the server's own words say what went wrong
            self.window.show_error(message)
            return
        self.window.show_error(f"The model could not be loaded. {message}")

    def dismiss_default_notice(self) -> None:
        self.store.update(default_model_notice_dismissed=True)
