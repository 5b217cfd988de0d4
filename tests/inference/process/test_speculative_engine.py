"""Drafting through the real engine process (issue 13): the request fields reach the token
loop, the trace says what drafting did, and the automatic switch measures per kind of work."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from inference.engine_process import EngineProcess
from inference.protocol import (
    ChatMessage,
    CompletionRequest,
    Done,
    GenerateRequest,
    Priority,
    Work,
)
from tests.support.engine_helpers import GREEDY, collect, load
from tests.support.speculative_runs import PROMPTS

# Automatic drafting as users get it (the suite turns it off by default: tests/conftest.py).
pytestmark = pytest.mark.usefixtures("auto_drafting")


@pytest.fixture
def engine(tiny_model: Path) -> Iterator[EngineProcess]:
    process = EngineProcess()
    process.start()
    # Flash attention: auto drafts only with it (llama_rows.flash_attention_on).
    load(process, tiny_model, n_ctx=1024, n_threads=1, n_threads_batch=1, flash_attn=True)
    yield process
    process.stop()


def done(engine: EngineProcess, request: CompletionRequest | GenerateRequest) -> Done:
    engine.send(request)
    last = collect(engine, request.id)[-1]
    assert isinstance(last, Done), last
    return last


def completion(engine: EngineProcess, drafting: str, work: str = "") -> CompletionRequest:
    return CompletionRequest(
        engine.next_id(), PROMPTS[0], max_tokens=48, sampling=GREEDY, ignore_eos=True,
        drafting=drafting, work=work,
    )  # fmt: skip


def test_forced_drafting_gives_the_same_text_and_says_what_it_did(engine: EngineProcess) -> None:
    plain = done(engine, completion(engine, "off"))
    drafted = done(engine, completion(engine, "on"))
    assert drafted.text == plain.text
    assert drafted.stats.completion_tokens == plain.stats.completion_tokens
    assert plain.trace is not None and drafted.trace is not None
    assert plain.trace.drafted == 0 and plain.trace.drafting == "forced off"
    t = drafted.trace
    assert t.drafting == "forced on"
    assert t.drafted > 0 and 0 < t.draft_accepted <= t.drafted and t.draft_steps > 0
    assert len(t.token_ms) == drafted.stats.completion_tokens - 1


def test_auto_measures_plain_then_drafting_per_kind_of_work(engine: EngineProcess) -> None:
    chat = GenerateRequest(engine.next_id(), (ChatMessage("user", PROMPTS[0]),), max_tokens=40)
    first = done(engine, chat)
    assert first.trace is not None and first.trace.drafting == "measuring without drafting"
    summary = done(engine, completion(engine, "auto", work="summary"))
    assert summary.trace is not None
    assert summary.trace.drafting == "measuring without drafting"  # its own measurements
    again = done(engine, completion(engine, "auto", work="summary"))
    assert again.trace is not None and again.trace.drafting == "measuring with drafting"
    assert again.text == summary.text


def test_the_trace_names_the_work_and_unnamed_work_gets_the_request_kind(
    engine: EngineProcess,
) -> None:
    messages = (ChatMessage("user", PROMPTS[0]),)
    named = done(engine, completion(engine, "off", work=Work.TRANSLATION))
    chat = done(engine, GenerateRequest(engine.next_id(), messages, max_tokens=4))
    background = GenerateRequest(
        engine.next_id(), messages, max_tokens=4, priority=Priority.BACKGROUND
    )
    unnamed = done(engine, background)
    raw = done(engine, completion(engine, "off"))
    works = [d.trace.work if d.trace else None for d in (named, chat, unnamed, raw)]
    assert works == ["translation", "chat", "background", "completion"]


@pytest.mark.parametrize("field", ["work", "drafting"])
def test_unknown_names_are_refused_on_the_callers_side(field: str) -> None:
    with pytest.raises(ValueError, match="Unknown"):
        GenerateRequest(1, (ChatMessage("user", "hi"),), **{field: "sometimes"})
    with pytest.raises(ValueError, match="Unknown"):
        CompletionRequest(1, "hi", **{field: "sometimes"})
