"""The chat's automatic-title requests, seen from outside the titler: each one as it goes
down the pipe to the engine process (it is still sent) and the engine's answer to it, and a
way to act the moment one went out, as a user who types while the title is being written."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from PySide6.QtCore import QObject, Qt, Signal, Slot
from pytestqt.qtbot import QtBot

from app.gui.chat.controller import ChatController
from inference.protocol import Done, GenerateRequest, Priority, Request


class _Soon(QObject):
    """Calls `act` from the GUI thread's event loop: `post` queues the call at once."""

    _posted = Signal()

    def __init__(self, act: Callable[[], None]) -> None:
        super().__init__()
        self._act = act
        self._posted.connect(self._run, Qt.ConnectionType.QueuedConnection)

    def post(self) -> None:
        self._posted.emit()

    @Slot()
    def _run(self) -> None:
        self._act()


class TitleRequests:
    """Records the title requests (the chat's background generations) and their answers.

    Create it once the app is made: its answers slot is connected after the titler's, so an
    answer is recorded only after the titler stored the title it makes. `right_after` runs
    once, as soon as the first title request went out and the titler holds it as pending,
    and before any answer to it: it is queued before the request is written to the pipe, so
    the engine's answer, queued later by the client's reader thread, is handled after it.
    """

    def __init__(
        self,
        controller: ChatController,
        monkeypatch: pytest.MonkeyPatch,
        right_after: Callable[[], None] | None = None,
    ) -> None:
        self.sent: list[GenerateRequest] = []
        self.answers: dict[int, Done] = {}
        self._soon = _Soon(right_after) if right_after is not None else None
        engine = controller.session.local._engine
        real_send = engine.send

        def send(request: Request) -> None:
            if isinstance(request, GenerateRequest) and request.priority is Priority.BACKGROUND:
                if self._soon is not None and not self.sent:
                    self._soon.post()
                self.sent.append(request)
            real_send(request)

        monkeypatch.setattr(engine, "send", send)
        controller.client.generationFinished.connect(self._on_finished)

    def _on_finished(self, request_id: int, done: Done) -> None:
        if any(request.id == request_id for request in self.sent):
            self.answers[request_id] = done

    def wait_answered(self, qtbot: QtBot, timeout: int = 30_000) -> tuple[GenerateRequest, Done]:
        """Wait until a title request was answered (and the titler handled the answer);
        that request and its answer."""
        qtbot.waitUntil(lambda: any(r.id in self.answers for r in self.sent), timeout=timeout)
        request = next(r for r in self.sent if r.id in self.answers)
        return request, self.answers[request.id]
