"""A translation-only model: a second engine session (app/gui/session.py) that serves the
Translate page, so a model picked for translating does not replace the chat's. It is not
remembered in the settings, and it stops (freeing its memory) when the page goes back to the
chat's model. GUI thread only."""

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
    path: str
    session: EngineSession
    bridge: EngineBridge
    translator: Translator

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
        session = EngineSession(self.store, self.paths, remembers_choice=False, parent=self)
        bridge = EngineBridge(session.client, parent=self)
        bridge.promptReading.connect(self.panel.show_reading)
        session.loaded.connect(self._on_loaded)
        session.loadProgressed.connect(self._on_progress)
        session.loadFailed.connect(self._on_failed)
        session.crashed.connect(self._on_crashed)
        self.engine = OwnEngine(path, session, bridge, Translator(bridge))
        session.load(path)
        panel.show_model_in_use(True)
        panel.set_model_label(f"Loading {name_for(path)}…")

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
        name = display_name(info.name, info.quantization, info.path)
        self.panel.set_model_label(f"{name} (translation only)")

    def _on_failed(self, _path: str, _kind: str, message: str) -> None:
        own = self.engine
        if own is not None and self.sender() is own.session:
            name = Path(own.path).name
            self.stop()
            self.panel.show_model_in_use(False)
            self.panel.set_model_label("")
            self.panel.show_error(
                f"{name} could not be loaded: {message} Translations use the chat model."
            )

    def _on_crashed(self, reason: str) -> None:
        if self.engine is not None and not self._busy():
            self.panel.show_error(f"The translation model stopped: {reason}")
