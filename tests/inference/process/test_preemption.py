"""Chat goes first, also against background work already running: the real engine process
pauses a background generation between tokens for an interactive request and resumes it.

Nothing here races the clock. The background replies are thousands of tokens long, and the
interactive request is sent as soon as the first background token arrives: the engine
cannot finish the rest before its reader thread has queued the request (and with unread
events filling the pipe it would block before the end anyway).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from inference.engine_process import EngineProcess
from inference.protocol import (
    CancelRequest,
    ChatMessage,
    CompletionRequest,
    Delta,
    Done,
    EngineSettings,
    Error,
    ErrorKind,
    Event,
    GenerateRequest,
    LoadRequest,
    Preempted,
    Priority,
    RequestLogReport,
    RequestLogRequest,
    Started,
    Tokenized,
    TokenizeRequest,
)
from tests.support.engine_helpers import GREEDY, collect, delta_text, load, names, run_until

LONG = 3000  # tokens of the background reply


@pytest.fixture
def engine(tiny_model: Path) -> Iterator[EngineProcess]:
    process = EngineProcess()
    process.start()
    load(process, tiny_model, n_ctx=4096)
    yield process
    process.stop()


def background(engine: EngineProcess, max_tokens: int = LONG) -> CompletionRequest:
    # ignore_eos: random weights may end a reply at any point; these must run long.
    return CompletionRequest(
        engine.next_id(),
        "Once upon a time",
        max_tokens=max_tokens,
        sampling=GREEDY,
        priority=Priority.BACKGROUND,
        ignore_eos=True,
    )


def interactive_chat(engine: EngineProcess) -> GenerateRequest:
    return GenerateRequest(
        engine.next_id(), (ChatMessage("user", "hello"),), max_tokens=8, sampling=GREEDY
    )


def long_interactive(engine: EngineProcess) -> CompletionRequest:
    return CompletionRequest(
        engine.next_id(),
        "A chat turn",
        max_tokens=LONG,
        sampling=GREEDY,
        priority=Priority.INTERACTIVE,
        ignore_eos=True,
    )


def test_a_chat_turn_pauses_a_running_background_reply(engine: EngineProcess) -> None:
    # The same request uninterrupted first: what the paused one must still produce.
    reference = background(engine)
    engine.send(reference)
    expected = collect(engine, reference.id)[-1]
    assert isinstance(expected, Done) and expected.stats.completion_tokens == LONG

    job = background(engine)
    chat = interactive_chat(engine)
    engine.send(job)

    def send_chat_once_running(event: Event) -> None:
        if isinstance(event, Delta) and event.id == job.id and not sent:
            engine.send(chat)
            sent.append(chat.id)

    sent: list[int] = []
    events = run_until(engine, {job.id, chat.id}, send_chat_once_running)
    assert names(events, job.id, chat.id) == [
        f"Started:{job.id}",
        f"Preempted:{job.id}",
        f"Started:{chat.id}",
        f"Done:{chat.id}",
        f"Done:{job.id}",
    ]
    preempted = next(e for e in events if isinstance(e, Preempted))
    assert preempted.by == chat.id and 0 < preempted.completion_tokens < LONG
    done = events[-1]
    assert isinstance(done, Done)
    # One stream, no text repeated after the resume, and the same greedy reply as without
    # the pause (the resume re-evaluates the prefix the chat turn pushed out of the cache).
    job_events = [e for e in events if getattr(e, "id", None) == job.id]
    assert delta_text(job_events) == done.text == expected.text
    assert done.stats.completion_tokens == LONG and done.stats.stop_reason == "length"
    assert done.stats.prompt_tokens_evaluated > done.stats.prompt_tokens  # re-evaluated
    assert next(e for e in job_events if isinstance(e, Started)).prompt_tokens == (
        done.stats.prompt_tokens
    )


def test_a_token_count_pauses_it_without_losing_the_cache(engine: EngineProcess) -> None:
    job = background(engine)
    count = TokenizeRequest(engine.next_id(), "hello world")
    engine.send(job)
    sent: list[int] = []

    def count_once_running(event: Event) -> None:
        if isinstance(event, Delta) and event.id == job.id and not sent:
            engine.send(count)
            sent.append(count.id)

    events = run_until(engine, {job.id}, count_once_running)
    order = names(events, job.id, count.id)
    assert order == [
        f"Started:{job.id}",
        f"Preempted:{job.id}",
        f"Tokenized:{count.id}",
        f"Done:{job.id}",
    ]
    done = events[-1]
    assert isinstance(done, Done) and done.stats.completion_tokens == LONG
    # Nothing pushed the reply out of the KV cache: the resume evaluated one token.
    assert done.stats.prompt_tokens_evaluated == done.stats.prompt_tokens + 1
    assert any(isinstance(e, Tokenized) for e in events)


def test_background_work_never_pauses_background_work(engine: EngineProcess) -> None:
    first, second = background(engine, 400), background(engine, 20)
    engine.send(first)
    sent: list[int] = []

    def queue_second(event: Event) -> None:
        if isinstance(event, Delta) and event.id == first.id and not sent:
            engine.send(second)
            sent.append(second.id)

    events = run_until(engine, {first.id, second.id}, queue_second)
    assert names(events, first.id, second.id) == [
        f"Started:{first.id}",
        f"Done:{first.id}",
        f"Started:{second.id}",
        f"Done:{second.id}",
    ]


def test_a_paused_reply_cancelled_ends_at_once_not_after_the_chat(
    engine: EngineProcess,
) -> None:
    job, chat = background(engine), long_interactive(engine)
    engine.send(job)

    def steer(event: Event) -> None:
        if isinstance(event, Delta) and event.id == job.id and not steps:
            engine.send(chat)
            steps.append("chat")
        if isinstance(event, Preempted):
            engine.send(CancelRequest(engine.next_id(), job.id))

    steps: list[str] = []
    events = run_until(engine, {job.id, chat.id}, steer)
    order = names(events, job.id, chat.id)
    assert order.index(f"Done:{job.id}") < order.index(f"Done:{chat.id}")
    done = next(e for e in events if isinstance(e, Done) and e.id == job.id)
    assert done.stats.stop_reason == "cancelled" and done.stats.completion_tokens < LONG
    job_events = [e for e in events if getattr(e, "id", None) == job.id]
    assert delta_text(job_events) == done.text


def test_a_paused_reply_does_not_continue_on_another_model(
    engine: EngineProcess, tiny_model: Path
) -> None:
    job, chat = background(engine), long_interactive(engine)
    reload = LoadRequest(engine.next_id(), EngineSettings(model_path=str(tiny_model), n_ctx=2048))
    engine.send(job)

    def steer(event: Event) -> None:
        if isinstance(event, Delta) and event.id == job.id and not steps:
            engine.send(chat)
            engine.send(reload)  # queued behind the chat, ahead of the paused reply
            steps.append("sent")

    steps: list[str] = []
    events = run_until(engine, {job.id, chat.id, reload.id}, steer)
    failed = events[-1]
    assert isinstance(failed, Error) and failed.id == job.id
    assert failed.kind == ErrorKind.MODEL_CHANGED and "another model" in failed.message.lower()


def test_the_engine_keeps_a_log_of_its_requests(engine: EngineProcess) -> None:
    job, chat = background(engine), interactive_chat(engine)
    engine.send(job)
    sent: list[int] = []

    def send_chat(event: Event) -> None:
        if isinstance(event, Delta) and event.id == job.id and not sent:
            engine.send(chat)
            sent.append(chat.id)

    run_until(engine, {job.id, chat.id}, send_chat)
    ask = RequestLogRequest(engine.next_id())
    engine.send(ask)
    report = engine.recv(30)
    assert isinstance(report, RequestLogReport) and report.id == ask.id
    load_record, chat_record, job_record = report.records[-3:]
    assert load_record.kind == "load" and load_record.stop_reason == "loaded"
    # In the order they ended: the chat turn before the background job it paused.
    assert (chat_record.id, chat_record.kind, chat_record.priority) == (
        chat.id,
        "chat",
        Priority.INTERACTIVE,
    )
    assert (job_record.id, job_record.kind, job_record.priority) == (
        job.id,
        "completion",
        Priority.BACKGROUND,
    )
    assert job_record.preemptions == 1 and chat_record.preemptions == 0
    assert job_record.completion_tokens == LONG and job_record.stop_reason == "length"
    assert job_record.prompt_tokens_evaluated > job_record.prompt_tokens > 0
    # Numbers only unless HEARTH_REQUEST_LOG asks for text.
    assert all(r.prompt is None and r.reply is None for r in report.records)
