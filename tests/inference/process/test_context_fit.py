"""Fitting an overgrown conversation into the context: pure policy logic, then the engine."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from inference.engine_process import EngineProcess
from inference.process.context_fit import OverflowPolicy, fit_messages, reply_reserve
from inference.protocol import ChatMessage, Done, Error, ErrorKind, GenerateRequest, Started
from tests.support.engine_helpers import GREEDY, collect, load


def conversation(turns: int, *, system: bool = True) -> list[ChatMessage]:
    messages = [ChatMessage("system", "Be brief.")] if system else []
    for n in range(turns):
        messages += [ChatMessage("user", f"question {n}"), ChatMessage("assistant", f"answer {n}")]
    messages.append(ChatMessage("user", "last question"))
    return messages


def words(messages: Sequence[ChatMessage]) -> int:
    return sum(len(m.content.split()) + 1 for m in messages)  # +1: per-message glue


def test_messages_that_fit_are_sent_unchanged() -> None:
    messages = conversation(3)
    for policy in OverflowPolicy:
        kept, dropped = fit_messages(messages, words, 1000, policy)
        assert kept == messages and dropped == ()


def test_drop_oldest_removes_whole_turns_from_the_start_and_keeps_the_system_prompt() -> None:
    messages = conversation(10)
    limit = words(messages) - 13  # two turns (6 words each) are not enough, three are
    kept, dropped = fit_messages(messages, words, limit, OverflowPolicy.DROP_OLDEST)
    assert dropped == (1, 2, 3, 4, 5, 6)  # turns 0..2: user+assistant each
    assert kept[0].role == "system" and kept[1].content == "question 3"
    assert kept[-1].content == "last question" and words(kept) <= limit
    roles = [m.role for m in kept[1:]]
    assert roles == ["user", "assistant"] * 7 + ["user"]  # alternation survives


def test_keep_ends_keeps_the_first_exchange_and_drops_the_middle() -> None:
    messages = conversation(10)
    limit = words(messages) - 13
    kept, dropped = fit_messages(messages, words, limit, OverflowPolicy.KEEP_ENDS)
    assert dropped == (3, 4, 5, 6, 7, 8)
    assert [m.content for m in kept[:3]] == ["Be brief.", "question 0", "answer 0"]
    assert kept[3].content == "question 4" and words(kept) <= limit


def test_the_fewest_turns_are_dropped_and_a_hopeless_prompt_is_left_to_the_engine() -> None:
    messages = conversation(50, system=False)
    limit = words(messages) - 1
    _, dropped = fit_messages(messages, words, limit, OverflowPolicy.DROP_OLDEST)
    assert dropped == (0, 1)  # one turn is enough
    huge = [*messages[:-1], ChatMessage("user", "w " * 5000)]
    kept, dropped = fit_messages(huge, words, 100, OverflowPolicy.DROP_OLDEST)
    assert kept == [huge[-1]] and len(dropped) == 100


def test_ask_and_fail_never_drop() -> None:
    messages = conversation(10)
    for policy in (OverflowPolicy.ASK, OverflowPolicy.FAIL):
        assert fit_messages(messages, words, 5, policy) == (messages, ())


def test_the_reserve_leaves_room_for_an_answer() -> None:
    assert reply_reserve(4096, 512) == 512
    assert reply_reserve(256, 512) == 64


def send(engine: EngineProcess, messages: list[ChatMessage], overflow: str) -> list[object]:
    request = GenerateRequest(
        engine.next_id(), tuple(messages), max_tokens=8, sampling=GREEDY, overflow=overflow
    )
    engine.send(request)
    return list(collect(engine, request.id))


def test_engine_drops_the_oldest_turns_and_says_which(
    engine: EngineProcess, tiny_model: Path
) -> None:
    load(engine, tiny_model, n_ctx=256)
    messages = [ChatMessage("user", "hello world " * 20), ChatMessage("assistant", "fine " * 20)]
    messages = messages * 4 + [ChatMessage("user", "and now?")]
    refused = send(engine, messages, "ask")
    assert isinstance(refused[-1], Error) and refused[-1].kind == ErrorKind.PROMPT_TOO_LONG
    assert "no longer fits" in refused[-1].message

    events = send(engine, messages, "drop_oldest")
    started = next(e for e in events if isinstance(e, Started))
    assert isinstance(events[-1], Done)
    assert started.dropped and started.dropped[:2] == (0, 1)
    assert len(started.dropped) % 2 == 0 and len(messages) - 1 not in started.dropped
    assert started.prompt_tokens <= 256 - reply_reserve(256, 8)
