"""The requests the chat controller sends down the pipe to the engine process, recorded on
their way (they are still sent)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from app.gui.chat.controller import ChatController
from inference.protocol import GenerateRequest, Request


def record_requests(controller: ChatController, monkeypatch: pytest.MonkeyPatch) -> list[Request]:
    """Every request as it goes down the pipe to the engine process (still sent)."""
    engine = controller.session.local._engine
    sent: list[Request] = []
    real_send = engine.send

    def send(request: Request) -> None:
        sent.append(request)
        real_send(request)

    monkeypatch.setattr(engine, "send", send)
    return sent


def generated(sent: list[Request]) -> Iterator[GenerateRequest]:
    return (r for r in sent if isinstance(r, GenerateRequest))
