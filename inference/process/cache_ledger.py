"""Why a prompt did not reuse the KV cache (issue 12), told by comparing the new request with
the one that evaluated the cache last. Engine main thread only.

The cache is "missed" when it held tokens the new prompt does not continue: the two diverge
before either ends. A prompt that only extends the cache (a follow-up turn) or is a prefix of
it (a regenerated reply) misses nothing. The first differing message says which kind of
change it was; a model load since, or another request's evaluation in between, come first.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from inference.protocol import ChatMessage
from inference.trace import CacheMiss, MissCode


@dataclass
class Evaluation:
    """A request as the ledger compares it: its messages as sent to the model (after any were
    left out to fit: `dropped`, indices into the request's messages) and its prompt ids."""

    id: int
    kind: str  # "chat" or "completion"
    priority: int
    messages: tuple[ChatMessage, ...] = ()
    dropped: tuple[int, ...] = ()
    prompt: Sequence[int] = field(default_factory=list)
    reply: str | None = None  # set when it ended: the cache holds its tokens after `prompt`


class CacheLedger:
    def __init__(self) -> None:
        self._last: Evaluation | None = None
        self._model: str | None = None
        self._previous_model: str | None = None

    def loaded(self, model_path: str) -> None:
        """A model was loaded: its cache is empty."""
        if self._model is not None:
            self._previous_model = self._model
        self._model = model_path
        self._last = None

    def evaluated(self, request: Evaluation, tokens: Sequence[int]) -> None:
        """`request` evaluates `tokens` now (each run, resumes included): the cache is its."""
        request.prompt = tokens
        self._last = request

    def benchmarked(self, request_id: int, priority: int) -> None:
        """A benchmark run (`hearth bench`) used the cache and left it empty: the next prompt
        is evaluated in full because of it, which the empty cache alone would not tell."""
        self._last = Evaluation(request_id, "bench", priority)

    def ended(self, request_id: int, text: str) -> None:
        if self._last is not None and self._last.id == request_id:
            self._last.reply = text

    def explain(
        self, request: Evaluation, cached: Sequence[int], tokens: Sequence[int], common: int
    ) -> CacheMiss | None:
        """Why the cache (`cached`, sharing `common` tokens with the prompt `tokens`) was not
        fully reused; None when nothing it held was thrown away."""
        last = self._last
        if last is None:
            changed = self._previous_model not in (None, self._model)
            code = MissCode.OTHER_MODEL if changed else MissCode.FIRST_SINCE_LOAD
            return CacheMiss(code, at_token=common)
        if last.kind == "bench":
            return CacheMiss(
                MissCode.OTHER_REQUEST, at_token=common, other_id=last.id, other_kind=last.kind
            )
        if common >= min(len(cached), len(tokens)):
            return None
        known = min(len(cached), len(last.prompt))
        if list(cached[:known]) != list(last.prompt[:known]):
            # Something this ledger did not see evaluated (a benchmark run...).
            return CacheMiss(MissCode.OTHER_REQUEST, at_token=common)
        if last.kind != request.kind or last.priority != request.priority:
            return CacheMiss(
                MissCode.OTHER_REQUEST, at_token=common, other_id=last.id, other_kind=last.kind
            )
        if request.kind != "chat":
            return CacheMiss(MissCode.PROMPT_CHANGED, at_token=common)
        return _compare_messages(last, request, common)


def _compare_messages(last: Evaluation, new: Evaluation, common: int) -> CacheMiss:
    if new.dropped and new.dropped != last.dropped:
        return CacheMiss(MissCode.CONTEXT_SHIFTED, at_token=common, dropped=len(new.dropped))
    before = list(last.messages)
    if last.reply is not None:
        before.append(ChatMessage("assistant", last.reply))
    now = new.messages
    for index, (old, message) in enumerate(zip(before, now, strict=False)):
        if old == message:
            continue
        system = "system" in (old.role, message.role)
        return CacheMiss(
            MissCode.SYSTEM_CHANGED if system else MissCode.MESSAGE_EDITED,
            at_token=common,
            message_index=_original_index(index, new.dropped),
            role=message.role,
        )
    if last.reply is not None and len(now) > len(last.messages):
        # Same texts, other tokens: a reply that ended early was tokenized anew from its text.
        return CacheMiss(
            MissCode.REPLY_RETOKENIZED,
            at_token=common,
            message_index=_original_index(len(last.messages), new.dropped),
            role="assistant",
        )
    return CacheMiss(MissCode.PROMPT_CHANGED, at_token=common)


def _original_index(kept_index: int, dropped: tuple[int, ...]) -> int:
    """The index in the request's messages of the `kept_index`-th message that was kept."""
    if not dropped:
        return kept_index
    gone = set(dropped)
    index = -1
    for _ in range(kept_index + 1):
        index += 1
        while index in gone:
            index += 1
    return index
