"""Reading the user's unsent text ahead (issue 13, protocol.WarmRequest.typing): while the
user types, the engine evaluates the next user turn's opening and the tokens typed so far,
so Enter pays only for what changed since the last read (usually the last word and the
turn's closing) instead of the whole message at the conversation's depth. Engine main thread.

Why it is safe: the real request builds its prompt as always and reuses only the longest
token prefix it shares with the cache (adapter.prefill_batches cuts the rest off), so a typed
word that changed, or text deleted, costs a re-read of the tokens after the change, never a
different reply. The text is tokenized as the message will be (on its own, control tokens
not parsed), and the turn's opening comes from the chat's own prompt builder.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, replace

from llama_cpp import Llama

from inference.process import llama_adapter as adapter
from inference.process.cache_ledger import CacheLedger, Evaluation
from inference.process.kv_state import KVStateKeeper
from inference.process.model_load import LoadedModel
from inference.protocol import ChatMessage, Priority
from inference.templates import PromptFormatError
from inference.trace import Trace

# New tokens read by one warm at most: text pasted into the input (a whole document) is read
# over the warms that follow, and a request arriving meanwhile waits for one step at most
# (256 tokens at depth 4,000 on Gemma 3 270M on 2 CPU cores: ~0.5 s).
TYPE_AHEAD_MOST = 256


@dataclass(frozen=True)
class TypedAhead:
    """What reading ahead left in the live cache: positions [start, end) hold the typed
    text's tokens (start: after the next turn's opening), read in `ms` over the warms that
    extended the same turn (summed: the time spent before Enter)."""

    start: int
    end: int
    ms: float

    def serves(self, common: int) -> int:
        """Typed tokens a prompt sharing `common` tokens with the cache reuses."""
        return max(0, min(common, self.end) - self.start)

    def on_trace(self, trace: Trace | None, reused: int) -> Trace | None:
        """`trace` saying that `reused` of its prompt's tokens were read ahead."""
        if trace is None or reused <= 0:
            return trace
        return replace(trace, tokens_typed_ahead=reused, typed_ahead_ms=self.ms)


def read_ahead(
    model: LoadedModel,
    messages: Sequence[ChatMessage],
    typing: str,
    *,
    kept: KVStateKeeper | None = None,
    state_key: str = "",
    earlier: TypedAhead | None = None,
    ledger: CacheLedger | None = None,
    request_id: int = 0,
) -> TypedAhead | None:
    """Evaluate the next user turn of `messages` (which end with a reply, or hold at most a
    system prompt) up to the tokens of `typing`, at most TYPE_AHEAD_MOST new tokens. None
    when there is nothing to read or no room. `earlier`: the last read, whose time is added
    when this one continues the same turn. A pending kept state is copied out first: it must
    hold the conversation, not the typing."""
    if not typing or (messages and messages[-1].role == "user"):
        return None
    builder = model.builder
    try:
        opening = builder.next_turn_prefix(messages)
        ids = opening + builder.message_ids(typing)
    except PromptFormatError:
        return None
    finally:
        builder.take_times()  # the next chat turn counts its own builds only
    llm = model.llm
    if len(ids) >= llm.n_ctx() - 1:
        return None  # the reply would have no room: the real request says so
    if kept is not None:
        if kept.pending:
            kept.save_pending(llm)
        kept.before_use(llm, state_key, Priority.BACKGROUND)
    common = Llama.longest_token_prefix(adapter.cached_tokens(llm), ids)
    target = min(len(ids), common + TYPE_AHEAD_MOST)
    started = time.perf_counter()
    for _ in adapter.prefill_batches(llm, ids[:target]):
        pass
    ms = (time.perf_counter() - started) * 1000.0
    if ledger is not None:
        what = Evaluation(request_id, "warm", int(Priority.BACKGROUND), tuple(messages))
        ledger.evaluated(what, ids[: llm.n_tokens])
    start = len(opening)
    if earlier is not None and earlier.start == start and common >= start:
        ms += earlier.ms
    return TypedAhead(start, max(start, llm.n_tokens), ms)
