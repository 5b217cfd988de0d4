"""Reading the user's unsent text ahead (issue 13, WarmRequest.typing), on the tiny model in
real engine processes: the turn then reads only what changed since, replies exactly as
without the read, counts what it reused in its trace; text changed after the read costs a
re-read, never another reply; pasted text is read a bounded step a warm; a kept state holds
the conversation, never the typing."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from inference.engine_process import EngineProcess
from inference.process.kv_state_file import read_header
from inference.process.type_ahead import TYPE_AHEAD_MOST
from inference.protocol import (
    ChatMessage,
    Done,
    EngineSettings,
    GenerateRequest,
    KeptStates,
    Loaded,
    LoadRequest,
    Priority,
    Warmed,
    WarmRequest,
)
from inference.sync_client import SyncEngine
from inference.trace import Trace
from tests.support.engine_helpers import GREEDY, collect
from tests.support.kept_states import FIRST, the_state_file

MESSAGE = "the cat sat on the mat and the dog ran to the door"


def _turn(engine: SyncEngine, messages: Sequence[ChatMessage], key: str = "") -> Done:
    return engine.chat(
        list(messages), max_tokens=12, sampling=GREEDY, priority=Priority.INTERACTIVE,
        state_key=key,
    )  # fmt: skip


def _plain(model: Path, messages: Sequence[ChatMessage]) -> Done:
    with SyncEngine.start(EngineSettings(str(model), n_ctx=1024)) as engine:
        return _turn(engine, messages)


def _typed_then_sent(model: Path, typed: Sequence[str], sent: str) -> tuple[list[Warmed], Done]:
    with SyncEngine.start(EngineSettings(str(model), n_ctx=1024)) as engine:
        warmed = [engine.warm([], "", typing=text) for text in typed]
        return warmed, _turn(engine, [ChatMessage("user", sent)])


def test_typed_text_is_read_ahead_and_the_reply_is_the_one_without(tiny_model: Path) -> None:
    plain = _plain(tiny_model, [ChatMessage("user", MESSAGE)])
    words = MESSAGE.split()
    warmed, done = _typed_then_sent(
        tiny_model, [" ".join(words[:4]), " ".join(words[:9]), MESSAGE], MESSAGE
    )
    assert done.text == plain.text
    trace = done.trace
    assert trace is not None
    assert [w.typed_tokens for w in warmed] == sorted(w.typed_tokens for w in warmed)
    assert warmed[-1].typed_tokens > 0 and warmed[-1].typed_ms > 0
    # Everything typed was reused; only the turn's closing is read at Enter.
    assert trace.tokens_typed_ahead == warmed[-1].typed_tokens
    assert trace.tokens_evaluated + trace.tokens_reused == done.stats.prompt_tokens
    assert trace.tokens_evaluated < plain.stats.prompt_tokens - warmed[-1].typed_tokens + 1
    assert trace.typed_ahead_ms >= warmed[-1].typed_ms
    again = Trace.from_phases(trace.phases(), trace.token_ms)
    assert (again.tokens_typed_ahead, again.typed_ahead_ms) == (
        trace.tokens_typed_ahead,
        trace.typed_ahead_ms,
    )


def test_text_changed_after_the_read_costs_a_reread_not_another_reply(tiny_model: Path) -> None:
    sent = "a completely different question about birds"
    plain = _plain(tiny_model, [ChatMessage("user", sent)])
    warmed, done = _typed_then_sent(tiny_model, [MESSAGE], sent)
    assert warmed[0].typed_tokens > 0
    assert done.text == plain.text
    trace = done.trace
    assert trace is not None
    assert trace.tokens_typed_ahead < warmed[0].typed_tokens
    assert trace.tokens_evaluated + trace.tokens_reused == done.stats.prompt_tokens


def test_pasted_text_is_read_a_bounded_step_a_warm(tiny_model: Path) -> None:
    pasted = " ".join([MESSAGE] * 30)  # ~640 tokens: more than two steps
    warmed, done = _typed_then_sent(tiny_model, [pasted, pasted], pasted)
    first, second = warmed
    assert 0 < first.typed_tokens <= TYPE_AHEAD_MOST
    assert second.typed_tokens - first.typed_tokens == TYPE_AHEAD_MOST
    assert done.trace is not None and done.trace.tokens_typed_ahead == second.typed_tokens


def test_a_kept_state_holds_the_conversation_never_the_typing(
    tiny_model: Path, tmp_path: Path
) -> None:
    """The state of a reply is copied out when the engine is idle; a typing warm queued
    behind the reply comes first and must not let the typed tokens into it (a state that
    does not start the next prompt is never restored)."""
    settings = EngineSettings(str(tiny_model), n_ctx=1024)
    plain = KeptStates(str(tmp_path / "plain"))
    with SyncEngine.start(settings, kept_states=plain) as engine:
        reply = _turn(engine, FIRST, "chat:1").text
    shown = (*FIRST, ChatMessage("assistant", reply))
    engine = EngineProcess()
    engine.start()
    try:
        load = LoadRequest(engine.next_id(), settings, KeptStates(str(tmp_path / "typed")))
        engine.send(load)
        assert isinstance(collect(engine, load.id)[-1], Loaded)
        turn = GenerateRequest(engine.next_id(), tuple(FIRST), 12, GREEDY, state_key="chat:1")
        warm = WarmRequest(engine.next_id(), shown, "chat:1", typing=MESSAGE)
        engine.send(turn)
        engine.send(warm)  # queued before the reply ends: the engine is never idle between
        done = collect(engine, turn.id)[-1]
        assert isinstance(done, Done) and done.text == reply
        warmed = collect(engine, warm.id)[-1]
        assert isinstance(warmed, Warmed) and warmed.typed_tokens > 0
    finally:
        engine.stop(timeout=20)
    kept = [read_header(the_state_file(tmp_path / name))[1] for name in ("plain", "typed")]
    assert kept[0] == kept[1]


def test_a_word_changed_after_the_read_is_not_called_a_cache_miss(tiny_model: Path) -> None:
    """The read ended inside a word the user then finished: the cache held tokens the prompt
    does not continue, which is what reading ahead expects, not a miss to explain."""
    _, done = _typed_then_sent(tiny_model, ["the cat sat on the m"], MESSAGE)
    assert done.trace is not None and done.trace.tokens_typed_ahead > 0
    assert done.trace.cache_miss is None
