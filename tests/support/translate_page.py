"""Driving the Translate page in tests: a recording engine that wraps the controller's bridge,
picking languages, typing a text to translate and waiting for the job to end."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from typing import Any

from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from app.translation.translator import Translator
from inference.protocol import ChatMessage
from tests.support.page_waits import work_ends
from ui.translation.panel import TranslationPanel

JOB_TIMEOUT_MS = 60_000


class RecordingEngine:
    """Wraps the controller's bridge: records each request's text, keeps replies short and
    can hold a request until the test lets it go."""

    def __init__(self, inner: Any, max_tokens: int = 6) -> None:
        self.inner = inner
        self.max_tokens = max_tokens
        self.sent: list[str] = []
        self.sent_tokens: list[int] = []  # counted on the job thread, as the bridge needs
        self.hold_at: int | None = None  # request number (1-based) to hold
        self.reached = threading.Event()
        self.release = threading.Event()
        # Runs on the job thread at the first streamed piece of request number `hold_at`.
        self.on_first_delta: Callable[[], None] | None = None

    @property
    def n_ctx(self) -> int:
        return int(self.inner.n_ctx)

    def chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> Any:
        self.sent.append(messages[-1].content)
        self.sent_tokens.append(self.count_tokens(messages[-1].content))
        kwargs["max_tokens"] = self.max_tokens
        if self.hold_at == len(self.sent):
            if self.on_first_delta is not None:
                kwargs["on_delta"] = self._once(kwargs.get("on_delta"), self.on_first_delta)
            else:
                self.reached.set()
                self.release.wait(10)
        return self.inner.chat(messages, **kwargs)

    @staticmethod
    def _once(sink: Callable[[str], None] | None, hook: Callable[[], None]) -> Any:
        fired: list[bool] = []

        def feed(text: str) -> None:
            if not fired:
                fired.append(True)
                hook()
            if sink is not None:
                sink(text)

        return feed

    def count_tokens(self, text: str) -> int:
        return int(self.inner.count_tokens(text))

    def cancel(self) -> None:
        self.release.set()
        self.inner.cancel()


def record(translator: Translator, max_tokens: int = 6) -> RecordingEngine:
    engine = RecordingEngine(translator.engine, max_tokens)
    translator.engine = engine
    return engine


def pick(panel: TranslationPanel, source: str | None, target: str) -> None:
    panel.set_source_code(source)
    panel.set_target_code(target)


def type_and_translate(qtbot: QtBot, panel: TranslationPanel, text: str) -> None:
    panel.source_edit.setFocus()
    qtbot.keyClicks(panel.source_edit, text)
    qtbot.keyClick(panel.source_edit, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)


def translation_ends(
    qtbot: QtBot, panel: TranslationPanel, timeout: int = JOB_TIMEOUT_MS
) -> AbstractContextManager[None]:
    """Waits, after the `with` body, until the job it starts (or the running one it cancels
    or releases) has ended and the page shows how: Cancel is disabled again, and by then
    the status, the message and the stored history are written."""
    return work_ends(qtbot, panel.cancel_button, timeout)
