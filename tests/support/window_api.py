"""Driving the window's API server as a client program does, from a thread of its own: the
window's engine answers through the GUI thread, so the test thread must keep Qt's event loop
turning (qtbot.waitUntil) while the official `openai` client waits for its answer."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from typing import Any

import keyring
import openai
from pytestqt.qtbot import QtBot

from app.gui.server.presenter import ApiServerPresenter
from tests.support.model_hub import MemoryKeyring
from ui.main_window import MainWindow

__all__ = ["Call", "MemoryKeyring", "StreamReader", "client", "presenter_of", "use_keyring"]


def presenter_of(window: MainWindow) -> ApiServerPresenter:
    presenter = window.findChild(ApiServerPresenter)
    assert presenter is not None
    return presenter


def client(base_url: str, api_key: str = "unused") -> openai.OpenAI:
    """No retries, so a 401 or a 503 reaches the test."""
    return openai.OpenAI(base_url=base_url, api_key=api_key, max_retries=0, timeout=60)


def use_keyring(memory: keyring.backend.KeyringBackend | None) -> keyring.backend.KeyringBackend:
    """Install `memory` (a fresh MemoryKeyring when None) as the keyring; returns the
    previous one to put back."""
    previous = keyring.get_keyring()
    keyring.set_keyring(memory or MemoryKeyring())
    return previous


class Call:
    """`fn()` on its own thread; `wait` keeps the event loop turning until it returns."""

    def __init__(self, fn: Callable[[], Any]) -> None:
        self.result: Any = None
        self.error: BaseException | None = None
        self.done = threading.Event()
        self._fn = fn
        self._thread = threading.Thread(target=self._run, name="api-client", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            self.result = self._fn()
        except BaseException as exc:  # handed to the test thread
            self.error = exc
        finally:
            self.done.set()

    def finish(self, qtbot: QtBot, timeout: int = 60_000) -> None:
        qtbot.waitUntil(self.done.is_set, timeout=timeout)
        self._thread.join()

    def wait(self, qtbot: QtBot, timeout: int = 60_000) -> Any:
        self.finish(qtbot, timeout)
        if self.error is not None:
            raise self.error
        return self.result


class StreamReader(Call):
    """Reads a streamed answer chunk by chunk: `chunks` so far, `first` once one came,
    `on_end` called on this thread when the stream ended (or failed)."""

    def __init__(
        self, open_stream: Callable[[], Iterable[Any]], on_end: Callable[[], None] = lambda: None
    ) -> None:
        self.chunks: list[Any] = []
        self.first = threading.Event()
        self._open, self._on_end = open_stream, on_end
        super().__init__(self._read)

    def _read(self) -> list[Any]:
        try:
            for chunk in self._open():
                self.chunks.append(chunk)
                self.first.set()
        finally:
            self._on_end()
        return self.chunks
