"""Warming a conversation the user opened (issue 13, protocol.WarmRequest): its kept KV state
goes into the live cache while the user reads and types, so the chat turn that follows pays
only for its new tokens (engine process, main thread).

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
from inference.process.kv_state import KVStateKeeper
from inference.process.model_load import LoadedModel
from inference.process.prompt_tokens import ReplyTokenMemory
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
) -> Warmed:
    """Restore `request`'s kept state into `model`'s live cache when that is safe and useful;
    the Warmed says what happened. `busy`: a generation is paused; `superseded`: a newer warm
    waits; `ledger`: told when the warm replaced the cache (a later miss names the warm).
    No model, no keeper, no key or no messages: nothing to do (kept_state "")."""
    if busy:
        return Warmed(request.id, WARM_BUSY)
    if superseded:
        return Warmed(request.id, WARM_SUPERSEDED)
    if model is None or kept is None or not request.state_key or not request.messages:
        return Warmed(request.id, KeptState.NONE)
    kept.prime(request.state_key, replies)  # the replies' ids as sampled, as a chat turn does
    try:
        prompt = model.builder.next_turn_prefix(request.messages)
    except PromptFormatError as exc:
        log.info("warm of %s skipped: %s", request.state_key, exc)
        return Warmed(request.id, KeptState.NONE)
    finally:
        model.builder.take_times()  # the next chat turn counts its own builds only
    restored = kept.warm(model.llm, request.state_key, prompt)
    if ledger is not None and restored.kept_state == KeptState.RESTORED:
        what = Evaluation(request.id, "warm", int(request.priority), request.messages)
        ledger.evaluated(what, prompt[: restored.tokens])
    return Warmed(request.id, restored.kept_state, restored.tokens, restored.ms)
