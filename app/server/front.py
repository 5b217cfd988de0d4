"""What the API server asks of an engine: the seam between app.server and whoever owns the
model (`hearth serve`'s own AsyncEngine today, the window's engine later).

Every method is called on the server's event loop. inference.async_client.AsyncEngine fits.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from inference.protocol import ChatMessage, Event, ModelInfo, Priority, Sampling


class ReplyStream(Protocol):
    """One request's events in order (Started, PrefillProgress, Delta, Preempted ...), ending
    with exactly one Done or Error."""

    id: int

    async def next_event(self) -> Event: ...

    def cancel(self) -> None:
        """Stop the request; its stream still ends with a Done or an Error."""
        ...

    def abandon(self) -> None:
        """Cancel it and drop whatever it still sends (the caller has gone away); a pending
        or later `next_event` returns Error(kind=ErrorKind.ABANDONED)."""
        ...


class EngineFront(Protocol):
    @property
    def info(self) -> ModelInfo | None:
        """The loaded model, or None while none is (the server answers 503)."""
        ...

    @property
    def crashed(self) -> str | None:
        """Why the engine died, in plain words, or None while it runs."""
        ...

    def chat(
        self,
        messages: Sequence[ChatMessage],
        *,
        max_tokens: int,
        sampling: Sampling,
        stop: Sequence[str] = (),
        priority: Priority = ...,
    ) -> ReplyStream: ...

    def complete(
        self,
        prompt: str,
        *,
        max_tokens: int,
        sampling: Sampling,
        stop: Sequence[str] = (),
        priority: Priority = ...,
    ) -> ReplyStream: ...
