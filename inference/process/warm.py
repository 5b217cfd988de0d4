"""Warming a conversation the user opened (issue 13, protocol.WarmRequest): its kept KV state
goes into the live cache while the user reads and types, so the chat turn that follows pays
only for its new tokens (engine process, main thread); and the text the user is typing is
read ahead (type_ahead.py), so Enter pays only for what changed since.

The prompt built here is the one the conversation makes before a new user turn (the chat's
own prompt builder, `next_turn_prefix`): the state kept after its last reply holds exactly
those tokens (the engine warms the next turn's opening before saving), and they start the
prompt of the next real request. A warm never disturbs other work: with a generation paused
(its cache must stay as it left it) or a newer warm waiting it is skipped, and when the live
cache already serves the conversation it loads nothing.
"""

from __future__ import annotations

import logging

from inference.process.cache_ledger import CacheLedger, Evaluation
from inference.process.kv_state import KVStateKeeper, Restored
from inference.process.model_load import LoadedModel
from inference.process.prompt_tokens import ReplyTokenMemory
from inference.process.type_ahead import TypedAhead, read_ahead
from inference.protocol import WARM_BUSY, WARM_SUPERSEDED, KeptState, Warmed, WarmRequest
from inference.templates import PromptFormatError

log = logging.getLogger(__name__)


def warm_conversation(
    model: LoadedModel | None,
    kept: KVStateKeeper | None,
    replies: ReplyTokenMemory,
    request: WarmRequest,
    *,
    busy: bool,
    superseded: bool,
    ledger: CacheLedger | None = None,
    typed: TypedAhead | None = None,
) -> tuple[Warmed, TypedAhead | None]:
    """Restore `request`'s kept state into `model`'s live cache when that is safe and useful,
    then read its `typing` ahead; the Warmed says what happened, with what the live cache
    now holds of typed text (`typed`: the last warm's, continued or replaced). `busy`: a
    generation is paused; `superseded`: a newer warm waits; `ledger`: told when the warm
    replaced the cache (a later miss names the warm). No model, no keeper, no key or no
    messages: nothing to restore (kept_state "")."""
    if busy:
        return Warmed(request.id, WARM_BUSY), typed
    if superseded:
        return Warmed(request.id, WARM_SUPERSEDED), typed
    if model is None:
        return Warmed(request.id, KeptState.NONE), typed
    restored = _restore(model, kept, replies, request, ledger)
    if request.typing:
        typed = read_ahead(
            model, request.messages, request.typing, kept=kept, state_key=request.state_key,
            earlier=typed, ledger=ledger, request_id=request.id,
        )  # fmt: skip
    elif restored.kept_state == KeptState.RESTORED:
        typed = None  # the cache was replaced
    now = typed if request.typing else None
    warmed = Warmed(
        request.id, restored.kept_state, restored.tokens, restored.ms,
        typed_tokens=now.end - now.start if now else 0, typed_ms=now.ms if now else 0.0,
    )  # fmt: skip
    return warmed, typed


def _restore(
    model: LoadedModel,
    kept: KVStateKeeper | None,
    replies: ReplyTokenMemory,
    request: WarmRequest,
    ledger: CacheLedger | None,
) -> Restored:
    if kept is None or not request.state_key or not request.messages:
        return Restored()
    kept.prime(request.state_key, replies)  # the replies' ids as sampled, as a chat turn does
    try:
        prompt = model.builder.next_turn_prefix(request.messages)
    except PromptFormatError as exc:
        log.info("warm of %s skipped: %s", request.state_key, exc)
        return Restored()
    finally:
        model.builder.take_times()  # the next chat turn counts its own builds only
    restored = kept.warm(model.llm, request.state_key, prompt)
    if ledger is not None and restored.kept_state == KeptState.RESTORED:
        what = Evaluation(request.id, "warm", int(request.priority), request.messages)
        ledger.evaluated(what, prompt[: restored.tokens])
    return restored
