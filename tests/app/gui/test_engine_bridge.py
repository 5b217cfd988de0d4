"""A job on a worker thread shares the window's engine through the bridge."""

from __future__ import annotations

import inspect
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from app.gui.engine_bridge import EngineBridge
from inference.client import EngineClient
from inference.protocol import (
    ChatMessage,
    CompletionRequest,
    Done,
    EngineSettings,
    GenerateRequest,
    Priority,
    Sampling,
)
from inference.sync_client import BlockingEngine, EngineError, SyncEngine


@pytest.fixture
def bridge(qtbot: QtBot, tiny_model: Path) -> Iterator[EngineBridge]:
    client = EngineClient()
    bridge = EngineBridge(client)
    with qtbot.waitSignal(client.modelLoaded, timeout=30_000):
        client.load(EngineSettings(model_path=str(tiny_model), n_ctx=512))
    yield bridge
    client.shutdown()


def run_in_thread(qtbot: QtBot, job: object) -> dict[str, object]:
    result: dict[str, object] = {}

    def target() -> None:
        try:
            result["value"] = job()  # type: ignore[operator]
        except Exception as exc:
            result["error"] = exc

    thread = threading.Thread(target=target)
    thread.start()
    qtbot.waitUntil(lambda: not thread.is_alive(), timeout=30_000)
    thread.join()
    return result


def test_worker_thread_chats_and_counts_through_the_gui_engine(
    qtbot: QtBot, bridge: EngineBridge
) -> None:
    deltas: list[str] = []

    def job() -> tuple[str, int, int]:
        done = bridge.chat(
            [ChatMessage("user", "hello")],
            max_tokens=6,
            sampling=Sampling(temperature=0.0),
            on_delta=deltas.append,
        )
        return done.text, bridge.count_tokens("hello world"), bridge.n_ctx

    result = run_in_thread(qtbot, job)
    assert "error" not in result, result
    text, count, n_ctx = result["value"]  # type: ignore[misc]
    assert text == "".join(deltas)
    assert count == 2 and n_ctx == 512


def test_a_job_names_the_kept_state_its_requests_belong_to(
    qtbot: QtBot, bridge: EngineBridge, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 13: `state_key` reaches the engine's request as given, and is empty unless a
    job gives one."""
    client: EngineClient = bridge._client
    sent: list[object] = []
    submit = client._submit

    def spy(request: object) -> int:
        sent.append(request)
        return submit(request)  # type: ignore[arg-type]

    monkeypatch.setattr(client, "_submit", spy)
    hello = [ChatMessage("user", "hello")]

    def job() -> None:
        bridge.chat(hello, max_tokens=2, state_key="summary:abc")
        bridge.complete("hello", max_tokens=2, state_key="translation:def")
        bridge.chat(hello, max_tokens=2)

    result = run_in_thread(qtbot, job)
    assert "error" not in result, result
    requests = [r for r in sent if isinstance(r, GenerateRequest | CompletionRequest)]
    assert [type(r) for r in requests] == [GenerateRequest, CompletionRequest, GenerateRequest]
    assert [r.state_key for r in requests] == ["summary:abc", "translation:def", ""]


def test_a_job_counts_a_batch_of_texts_in_one_request(qtbot: QtBot, bridge: EngineBridge) -> None:
    texts = ["hello world", "hello", "", "word " * 30]

    def job() -> tuple[list[int], list[int], list[int]]:
        single = [bridge.count_tokens(t) for t in texts]
        return bridge.count_tokens_many(texts), single, bridge.count_tokens_many([])

    result = run_in_thread(qtbot, job)
    assert "error" not in result, result
    batched, single, empty = result["value"]  # type: ignore[misc]
    assert batched == single and single[:3] == [2, 1, 0]
    assert empty == []


def test_errors_and_cancel_reach_the_job(qtbot: QtBot, bridge: EngineBridge) -> None:
    result = run_in_thread(qtbot, lambda: bridge.chat([ChatMessage("user", "word " * 400)]))
    assert isinstance(result.get("error"), EngineError)
    assert result["error"].kind == "prompt_too_long"  # type: ignore[union-attr]
    bridge.cancel()
    result = run_in_thread(qtbot, lambda: bridge.count_tokens("x"))
    assert isinstance(result.get("error"), EngineError)
    bridge.reset_cancel()
    assert run_in_thread(qtbot, lambda: bridge.count_tokens("hello"))["value"] == 1


def test_a_client_that_was_shut_down_never_starts_a_new_engine(qtbot: QtBot) -> None:
    client = EngineClient()
    client.shutdown()
    with qtbot.waitSignal(client.requestFailed, timeout=5_000) as failed:
        client.count_tokens("late timer")
    assert failed.args[1] == "engine_closed"
    assert not client.running and client.pid is None


def test_a_cancel_before_the_request_is_registered_is_not_lost(
    qtbot: QtBot, bridge: EngineBridge
) -> None:
    """The job's cancel lands after the request went to the engine but before the GUI
    thread noted its id (the bridge's `register` step): it must still reach the engine.
    Greedy "hello" on the tiny model runs 286 tokens to its end, so a lost cancel shows."""
    client = bridge._client
    generate = client.generate

    def generate_then_cancel(*args: object, **kwargs: object) -> int:
        request_id = generate(*args, **kwargs)  # type: ignore[arg-type]
        bridge.cancel()  # no id noted yet: only the flag can carry it
        return request_id

    client.generate = generate_then_cancel  # type: ignore[method-assign]
    greedy = Sampling(temperature=0.0, top_k=1, seed=1)
    result = run_in_thread(
        qtbot, lambda: bridge.chat([ChatMessage("user", "hello")], max_tokens=400, sampling=greedy)
    )
    client.generate = generate  # type: ignore[method-assign]
    if "error" in result:  # the cancel overtook it in the engine's queue
        assert isinstance(result["error"], EngineError) and result["error"].kind == "cancelled"
    else:
        done = result["value"]
        assert done.stats.stop_reason == "cancelled"  # type: ignore[attr-defined]
        assert done.stats.completion_tokens < 286  # type: ignore[attr-defined]


def test_a_chat_turn_goes_ahead_of_a_job_reply_already_streaming(
    qtbot: QtBot, tiny_model: Path
) -> None:
    """The window's chat and a background job (a summary, a translation) share the engine:
    the chat turn pauses the job's running reply, is served, and the job's reply resumes
    and streams on without repeating anything. Greedy "the" on the tiny model does not end
    on its own within 3,000 tokens, so the job is still running when the chat is sent."""
    client = EngineClient()
    bridge = EngineBridge(client)
    with qtbot.waitSignal(client.modelLoaded, timeout=30_000):
        client.load(EngineSettings(model_path=str(tiny_model), n_ctx=4096))
    greedy = Sampling(temperature=0.0, top_k=1, seed=1)
    job_id: list[int] = []
    chat_id: list[int] = []
    finished: list[int] = []
    preempted: list[tuple[int, int]] = []
    client.generationStarted.connect(lambda i, *_: job_id or job_id.append(i))
    client.generationFinished.connect(lambda i, _done: finished.append(i))
    client.generationPreempted.connect(lambda i, by: preempted.append((i, by)))
    paused: list[bool] = []
    bridge.pausedChanged.connect(paused.append)

    def chat_once_the_job_streams(request_id: int, _text: str, _tokens: int) -> None:
        if job_id and request_id == job_id[0] and not chat_id:
            chat_id.append(
                client.generate(
                    [ChatMessage("user", "hi")],
                    max_tokens=4,
                    sampling=greedy,
                    priority=Priority.INTERACTIVE,
                )
            )

    client.deltaReceived.connect(chat_once_the_job_streams)
    deltas: list[str] = []
    try:
        result = run_in_thread(
            qtbot,
            lambda: bridge.chat(
                [ChatMessage("user", "the")],
                max_tokens=3000,
                sampling=greedy,
                on_delta=deltas.append,
            ),
        )
    finally:
        client.shutdown()
    assert "error" not in result, result
    done = result["value"]
    assert isinstance(done, Done)
    assert preempted == [(job_id[0], chat_id[0])]
    assert finished == [chat_id[0], job_id[0]]  # the chat turn before the job's reply
    assert "".join(deltas) == done.text and done.stats.completion_tokens == 3000
    assert paused == [True, False]  # what the Documents page shows while the chat goes first


def test_the_client_reports_each_prefill_batch(qtbot: QtBot, tiny_model: Path) -> None:
    """The hook a prompt-reading progress display builds on: one signal per prefill step."""
    client = EngineClient()
    steps: list[tuple[int, int, int]] = []
    client.prefillProgressed.connect(lambda *step: steps.append(step))
    try:
        with qtbot.waitSignal(client.modelLoaded, timeout=30_000):
            client.load(EngineSettings(model_path=str(tiny_model), n_ctx=512, n_batch=2))
        with qtbot.waitSignal(client.generationFinished, timeout=30_000):
            request = client.complete(
                "the the the", max_tokens=2, sampling=Sampling(temperature=0.0)
            )
    finally:
        client.shutdown()
    assert steps == [(request, 2, 4), (request, 4, 4)]  # BOS and three words, two a step


def test_a_job_paused_in_its_prefill_shows_as_running_again_once_it_resumes(
    qtbot: QtBot, tiny_model: Path
) -> None:
    """A chat turn pauses a job while it reads a long prompt; when the job resumes it reads
    the prompt again before its next token, and the Documents page must not say "paused"
    meanwhile."""
    client = EngineClient()
    bridge = EngineBridge(client)
    with qtbot.waitSignal(client.modelLoaded, timeout=30_000):
        # Steps of two tokens: the job's ~1,000-token prompt takes ~500 steps.
        client.load(EngineSettings(model_path=str(tiny_model), n_ctx=2048, n_batch=2, n_threads=1))
    greedy = Sampling(temperature=0.0, top_k=1, seed=1)
    log: list[tuple[str, object]] = []
    bridge.pausedChanged.connect(lambda paused: log.append(("paused", paused)))
    client.generationPreempted.connect(lambda *_: log.append(("preempted", None)))
    client.prefillProgressed.connect(lambda i, done, _t: log.append(("step", i)))
    chat_id: list[int] = []

    def chat_at_the_first_step(request_id: int, _done: int, _total: int) -> None:
        if not chat_id:
            chat_id.append(
                client.generate([ChatMessage("user", "hi")], max_tokens=2, sampling=greedy)
            )

    client.prefillProgressed.connect(chat_at_the_first_step)
    try:
        result = run_in_thread(
            qtbot,
            lambda: bridge.chat(
                [ChatMessage("user", " ".join(["the"] * 1000))], max_tokens=2, sampling=greedy
            ),
        )
    finally:
        client.shutdown()
    assert "error" not in result, result
    paused_at = log.index(("paused", True))
    resumed_at = log.index(("paused", False))
    assert log[paused_at + 1] == ("preempted", None)  # the bridge hears it first
    job_steps = [e for e in log[:paused_at] if e[0] == "step"]
    job_id = job_steps[0][1]
    # Running again at the job's first step after the chat, not at its next token.
    assert log[resumed_at + 1] == ("step", job_id)
    assert ("step", job_id) not in log[paused_at:resumed_at]


def test_a_jobs_long_prompt_is_told_as_it_is_read(qtbot: QtBot, tiny_model: Path) -> None:
    """What the Documents and Translate pages show while a chunk's prompt is read: each
    step's count, then "" once it is read; nothing for requests that are not the job's."""
    client = EngineClient()
    bridge = EngineBridge(client)
    with qtbot.waitSignal(client.modelLoaded, timeout=30_000):
        client.load(EngineSettings(model_path=str(tiny_model), n_ctx=512, n_batch=2))
    lines: list[str] = []
    bridge.promptReading.connect(lines.append)
    greedy = Sampling(temperature=0.0, top_k=1, seed=1)
    try:
        with qtbot.waitSignal(client.generationFinished, timeout=30_000):
            client.complete("the the the", max_tokens=2, sampling=greedy)  # not the job's
        result = run_in_thread(
            qtbot, lambda: bridge.chat([ChatMessage("user", "the the the")], max_tokens=2)
        )
    finally:
        client.shutdown()
    assert "error" not in result, result
    assert len(lines) > 2 and lines[-1] == ""
    assert all(
        line.startswith("reading the prompt: ") and line.endswith(" tokens") for line in lines[:-1]
    )


def _public_members(kind: type) -> list[str]:
    return [name for name in vars(kind) if not name.startswith("_")]


def test_the_bridge_and_the_sync_engine_both_are_a_blocking_engine(qtbot: QtBot) -> None:
    """Jobs are written once against BlockingEngine: every member it names exists on both,
    and every method takes the same parameters, of the same kinds."""
    client = EngineClient()  # no model loaded: nothing starts
    engines = (EngineBridge(client), SyncEngine())
    for name in _public_members(BlockingEngine):
        wanted = getattr(BlockingEngine, name)
        for engine in engines:
            if isinstance(wanted, property):
                attribute = getattr(type(engine), name, None)
                assert isinstance(attribute, property) or name in vars(engine), (engine, name)
                continue
            expected = [(p.name, p.kind) for p in inspect.signature(wanted).parameters.values()]
            given = inspect.signature(getattr(type(engine), name)).parameters.values()
            assert [(p.name, p.kind) for p in given] == expected, (engine, name)
