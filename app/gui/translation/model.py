"""A translation-only model: a second engine process that serves the Translate page, so a
model picked for translating does not replace the chat's. GUI thread only."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QObject

from app.config.settings import Settings
from app.gui.engine_bridge import EngineBridge
from app.models.catalog import name_for
from app.models.names import display_name
from app.translation.translator import Translator
from inference.client import EngineClient
from inference.protocol import ModelInfo
from ui.translation.panel import TranslationPanel


@dataclass
class OwnEngine:
    path: str
    client: EngineClient
    bridge: EngineBridge
    translator: Translator
    load_request: int


class TranslationModel(QObject):
    """`engine` is None while translations use the chat's model; `busy()` tells whether a
    translation runs (a crash during one is reported by that job instead)."""

    def __init__(self, panel: TranslationPanel, busy: Callable[[], bool]) -> None:
        super().__init__(panel)
        self.panel = panel
        self.engine: OwnEngine | None = None
        self._busy = busy

    def use(self, path: str, settings: Settings) -> None:
        """Load the GGUF at `path` in its own engine, sized like the chat's (`settings`);
        "" goes back to the chat's model."""
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
        client = EngineClient(self)
        bridge = EngineBridge(client, parent=self)
        client.modelLoaded.connect(self._on_loaded)
        client.loadProgressed.connect(self._on_progress)
        client.requestFailed.connect(self._on_failed)
        client.engineCrashed.connect(self._on_crashed)
        request = client.load(settings.engine_settings(path))
        self.engine = OwnEngine(path, client, bridge, Translator(bridge), request)
        panel.show_model_in_use(True)
        panel.set_model_label(f"Loading {name_for(path)}…")

    def stop(self) -> None:
        own, self.engine = self.engine, None
        if own is None:
            return
        own.client.shutdown()
        own.bridge.deleteLater()
        own.client.deleteLater()

    def _on_progress(self, request_id: int, fraction: float, _text: str) -> None:
        own = self.engine
        if own is not None and request_id == own.load_request:
            self.panel.set_model_label(f"Loading {name_for(own.path)}… {fraction:.0%}")

    def _on_loaded(self, request_id: int, info: ModelInfo) -> None:
        own = self.engine
        if own is None or request_id != own.load_request:
            return
        name = display_name(info.name, info.quantization, info.path)
        self.panel.set_model_label(f"{name} (translation only)")

    def _on_failed(self, request_id: int, _kind: str, message: str) -> None:
        own = self.engine
        if own is not None and request_id == own.load_request:
            name = Path(own.path).name
            self.stop()
            self.panel.show_model_in_use(False)
            self.panel.set_model_label("")
            self.panel.show_error(
                f"{name} could not be loaded: {message.splitlines()[0] if message else ''} "
                "Translations use the chat model."
            )

    def _on_crashed(self, reason: str) -> None:
        if self.engine is not None and not self._busy():
            self.panel.show_error(f"The translation model stopped: {reason}")
