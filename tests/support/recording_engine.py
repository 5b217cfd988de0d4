"""An engine wrapper that records every request a summary sends, delegating to a real
SyncEngine (tiny model), with hooks to cancel, crash or script a reply."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from typing import Any

from inference.protocol import ChatMessage, Done, ModelInfo
from inference.sync_client import SyncEngine


class RecordingEngine:
    def __init__(self, engine: SyncEngine) -> None:
        self._engine = engine
        self.prompts: list[str] = []  # the user message of each request, in order
        self.replies: list[str] = []
        self.after_request: Callable[[int], None] | None = None  # called with request number
        self.before_request: Callable[[int], None] | None = None  # before it is sent
        self.in_flight = False  # a chat request is in the engine
        self.cancels_in_flight = 0  # cancel() calls that found a request in the engine
        self.reply_for: Callable[[str], str | None] | None = None  # scripted reply text
        self.count_requests = 0  # token-count round trips, single or batched
        self.works: list[str] = []  # the kind of work each request named (issue 13)

    @property
    def info(self) -> ModelInfo | None:
        return self._engine.info

    @property
    def n_ctx(self) -> int:
        return self._engine.n_ctx

    def chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> Done:
        prompt = messages[-1].content
        self.prompts.append(prompt)
        self.works.append(str(kwargs.get("work", "")))
        if self.before_request is not None:
            self.before_request(len(self.prompts))
        self.in_flight = True
        try:
            done = self._engine.chat(messages, **kwargs)
        finally:
            self.in_flight = False
        scripted = self.reply_for(prompt) if self.reply_for is not None else None
        if scripted is not None:
            done = dataclasses.replace(done, text=scripted)
        self.replies.append(done.text)
        if self.after_request is not None:
            self.after_request(len(self.prompts))
        return done

    def complete(self, prompt: str, **kwargs: Any) -> Done:
        self.prompts.append(prompt)
        self.works.append(str(kwargs.get("work", "")))
        if self.before_request is not None:
            self.before_request(len(self.prompts))
        self.in_flight = True
        try:
            done = self._engine.complete(prompt, **kwargs)
        finally:
            self.in_flight = False
        scripted = self.reply_for(prompt) if self.reply_for is not None else None
        if scripted is not None:
            done = dataclasses.replace(done, text=scripted)
        self.replies.append(done.text)
        if self.after_request is not None:
            self.after_request(len(self.prompts))
        return done

    def count_tokens(self, text: str) -> int:
        self.count_requests += 1
        return self._engine.count_tokens(text)

    def count_tokens_many(self, texts: Sequence[str]) -> list[int]:
        self.count_requests += 1
        return self._engine.count_tokens_many(texts)

    def cancel(self) -> None:
        self.cancels_in_flight += self.in_flight
        self._engine.cancel()

    def reset_cancel(self) -> None:
        self._engine.reset_cancel()

    def kinds(self) -> list[str]:
        return [kind_of(p) for p in self.prompts]


def kind_of(prompt: str) -> str:
    if prompt.startswith("Summarize this part"):
        return "map"
    if prompt.startswith("Below are summaries"):
        return "reduce"
    return "final"
