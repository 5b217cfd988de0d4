"""A translation-only model: a second engine session (app/gui/session.py) that serves the
Translate page, so a model picked for translating does not replace the chat's. It is not
remembered in the settings, and it stops (freeing its memory) when the page goes back to the
chat's model. A model on one of the servers connected on the Models page (issue 14) is used the
same way, through its own session's backend switch: no local model is loaded for it. GUI
thread only."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QObject

from app.config.paths import HearthPaths
from app.gui.backend_switch import BackendSwitch
from app.gui.engine_bridge import EngineBridge
from app.gui.session import EngineSession
from app.gui.settings_store import SettingsStore
from app.models.catalog import name_for
from app.models.names import display_name
from app.translation.translator import Translator
from inference.protocol import ModelInfo
from ui.translation.panel import TranslationPanel


@dataclass
class OwnEngine:
    path: str  # the GGUF, or a server's model's label ("model · server")
    session: EngineSession
    bridge: EngineBridge
    translator: Translator
    remote: tuple[str, str] | None = None  # (connection name, model id) of a server's model

    @property
    def client(self) -> BackendSwitch:
        return self.session.client


class TranslationModel(QObject):
    """`engine` is None while translations use the chat's model; `busy()` tells whether a
    translation runs (a crash during one is reported by that job instead). The engine is
    loaded with the app-wide settings (`store`) and the model's own (Models page), like the
    chat's."""

    def __init__(
        self,
        panel: TranslationPanel,
        store: SettingsStore,
        paths: HearthPaths,
        busy: Callable[[], bool],
    ) -> None:
        super().__init__(panel)
        self.panel = panel
        self.store = store
        self.paths = paths
        self.engine: OwnEngine | None = None
        self._busy = busy

    def use(self, path: str) -> None:
        """Load the GGUF at `path` in its own engine; "" goes back to the chat's model."""
        if not self._can_switch():
            return
        self.stop()
        panel = self.panel
        if not path:
            panel.show_model_in_use(False)
            panel.set_model_label("")
            return
        if not Path(path).is_file():
            panel.show_error(f"{path}: no such model file.")
            panel.show_model_in_use(False)
            return
        session = self._new_engine(path)
        session.load(path)
        panel.show_model_in_use(True)
        panel.set_model_label(f"Loading {name_for(path)}…")

    def _can_switch(self) -> bool:
        if self._busy():
            self.panel.show_error("Cancel the running translation first, then switch models.")
            self.show_in_use()
            return False
        return True

    def show_in_use(self) -> None:
        """Point the panel's model choice at what translations use now."""
        own = self.engine
        if own is not None and own.remote is not None:
            self.panel.show_remote_model_in_use(*own.remote)
        else:
            self.panel.show_model_in_use(own is not None)

    def use_remote(self, connection_name: str, model: str) -> None:
        """Translate with `model` on the server of the connection named so (its own session:
        the chat's model stays as it is)."""
        if not self._can_switch():
            return
        connection = next(
            (c for c in self.store.settings.connections if c.name == connection_name), None
        )
        if connection is None:  # removed on the Models page meanwhile
            self.panel.show_error(f"There is no connection named {connection_name!r} any more.")
            self.show_in_use()
            return
        self.stop()
        label = f"{model} · {connection.name}"
        session = self._new_engine(label, remote=(connection.name, model))
        try:
            session.use_remote(connection, model)
        except ValueError as exc:  # an address the Models page would not have kept
            self.stop()
            self.panel.show_model_in_use(False)
            self.panel.show_error(str(exc))
            return
        self.panel.show_remote_model_in_use(connection.name, model)
        self.panel.set_model_label(f"Connecting to {connection.name}…")

    def _new_engine(self, path: str, *, remote: tuple[str, str] | None = None) -> EngineSession:
        session = EngineSession(self.store, self.paths, remembers_choice=False, parent=self)
        bridge = EngineBridge(session.client, parent=self)
        bridge.promptReading.connect(self.panel.show_reading)
        session.loaded.connect(self._on_loaded)
        session.loadProgressed.connect(self._on_progress)
        session.loadFailed.connect(self._on_failed)
        session.crashed.connect(self._on_crashed)
        self.engine = OwnEngine(path, session, bridge, Translator(bridge), remote)
        return session

    def stop(self) -> None:
        own, self.engine = self.engine, None
        if own is None:
            return
        own.session.shutdown()
        own.bridge.deleteLater()
        own.session.deleteLater()

    def _on_progress(self, fraction: float, _text: str) -> None:
        own = self.engine
        if own is not None and self.sender() is own.session:
            self.panel.set_model_label(f"Loading {name_for(own.path)}… {fraction:.0%}")

    def _on_loaded(self, info: ModelInfo) -> None:
        own = self.engine
        if own is None or self.sender() is not own.session:
            return
        if own.remote is not None:
            name = own.path
        else:
            name = display_name(info.name, info.quantization, info.path)
        self.panel.set_model_label(f"{name} (translation only)")

    def _on_failed(self, _path: str, _kind: str, message: str) -> None:
        own = self.engine
        if own is not None and self.sender() is own.session:
            name = own.path if own.remote is not None else Path(own.path).name
            self.stop()
            self.panel.show_model_in_use(False)
            self.panel.set_model_label("")
            self.panel.show_error(
                f"{name} could not be loaded: {message} Translations use the chat model."
            )

    def _on_crashed(self, reason: str) -> None:
        if self.engine is not None and not self._busy():
            self.panel.show_error(f"The translation model stopped: {reason}")
