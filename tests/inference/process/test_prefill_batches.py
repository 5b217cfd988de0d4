"""A long prompt is evaluated in n_batch-sized steps, and a cancel or a chat turn takes
effect between two of them, not after the whole prefill (a document chunk's prefill takes
seconds on a CPU). The real engine process on the tiny model, loaded with a tiny batch so
one prompt takes about two thousand steps.

Nothing here races the clock: the engine reports every step (PrefillProgress), the test
reacts to the first report, and two thousand steps cannot be done before the engine's reader
thread has taken the request (a step's report waits in the pipe once ~280 are unread).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from inference.engine_process import EngineProcess
from inference.process.prefill_watch import FIRST_STEP, PrefillWatch
from inference.protocol import (
    CancelRequest,
    ChatMessage,
    CompletionRequest,
    Delta,
    Done,
    Event,
    GenerateRequest,
    Preempted,
    PrefillProgress,
    Priority,
    Started,
    TokenizeRequest,
)
from tests.support.engine_helpers import GREEDY, collect, delta_text, load, names, run_until

N_BATCH = 2
WORDS = 3900  # one token each, plus BOS: about 1950 prefill steps
REPLY = 24


@pytest.fixture
def engine(tiny_model: Path) -> Iterator[EngineProcess]:
    process = EngineProcess()
    process.start()
    # One thread: the tiny model gains nothing from more, and on a busy machine every
    # step of a multi-threaded decode waits for its other threads to be scheduled.
    load(process, tiny_model, n_ctx=4096, n_batch=N_BATCH, n_threads=1, n_threads_batch=1)
    yield process
    process.stop()


def long_job(engine: EngineProcess, first_word: str = "the") -> CompletionRequest:
    return CompletionRequest(
        engine.next_id(),
        " ".join([first_word] + ["the"] * (WORDS - 1)),
        max_tokens=REPLY,
        sampling=GREEDY,
        priority=Priority.BACKGROUND,
        ignore_eos=True,  # random weights may end a reply at any point
    )


def progress(events: list[Event], request_id: int) -> list[PrefillProgress]:
    return [e for e in events if isinstance(e, PrefillProgress) and e.id == request_id]


def on_first_progress(engine: EngineProcess, job: CompletionRequest, request: object) -> object:
    """An event handler that sends `request` when `job` reports its first prefill step."""
    sent: list[bool] = []

    def handle(event: Event) -> None:
        if isinstance(event, PrefillProgress) and event.id == job.id and not sent:
            engine.send(request)
            sent.append(True)

    return handle


def test_a_cancel_during_a_long_prefill_is_answered_before_it_ends(
    engine: EngineProcess,
) -> None:
    job = long_job(engine)
    engine.send(job)
    cancel = CancelRequest(engine.next_id(), job.id)
    events = run_until(engine, {job.id}, on_first_progress(engine, job, cancel))
    done = events[-1]
    assert isinstance(done, Done) and done.id == job.id
    assert done.stats.stop_reason == "cancelled"
    assert done.stats.completion_tokens == 0 and done.text == ""
    steps = progress(events, job.id)
    assert steps and steps[-1].total == done.stats.prompt_tokens == WORDS + 1
    # It stopped between two steps, long before the prompt was read.
    assert steps[-1].done < steps[-1].total - N_BATCH
    assert 0 < done.stats.prompt_tokens_evaluated == steps[-1].done < done.stats.prompt_tokens


def test_a_chat_turn_goes_first_during_a_background_prefill_which_then_completes(
    engine: EngineProcess,
) -> None:
    # The same request uninterrupted first: what the paused one must still produce.
    reference = long_job(engine)
    engine.send(reference)
    expected = collect(engine, reference.id)[-1]
    assert isinstance(expected, Done) and expected.stats.completion_tokens == REPLY
    # Another prompt in the cache, so the job's prefill starts from nothing again.
    other = long_job(engine, first_word="a")
    engine.send(other)
    assert isinstance(collect(engine, other.id)[-1], Done)

    job = long_job(engine)
    chat = GenerateRequest(
        engine.next_id(), (ChatMessage("user", "hello"),), max_tokens=8, sampling=GREEDY
    )
    engine.send(job)
    events = run_until(engine, {job.id, chat.id}, on_first_progress(engine, job, chat))
    assert names(events, job.id, chat.id) == [
        f"Started:{job.id}",
        f"Preempted:{job.id}",
        f"Started:{chat.id}",
        f"Done:{chat.id}",
        f"Done:{job.id}",
    ]
    paused_at = events.index(next(e for e in events if isinstance(e, Preempted)))
    preempted = events[paused_at]
    assert isinstance(preempted, Preempted)
    assert preempted.by == chat.id and preempted.completion_tokens == 0
    # The chat started while the job's prompt was still being read.
    before = progress(events[:paused_at], job.id)
    assert before and before[-1].done < before[-1].total - N_BATCH
    assert not [e for e in events[:paused_at] if isinstance(e, Delta) and e.id == job.id]
    # The job resumed after the chat and gives the same greedy reply as without the pause.
    after = progress(events[paused_at:], job.id)
    assert after and after[-1].done == after[-1].total
    done = events[-1]
    assert isinstance(done, Done) and done.id == job.id
    job_events = [e for e in events if getattr(e, "id", None) == job.id]
    assert delta_text(job_events) == done.text == expected.text
    assert done.stats.completion_tokens == REPLY and done.stats.stop_reason == "length"
    assert next(e for e in job_events if isinstance(e, Started)).prompt_tokens == WORDS + 1


def test_a_paused_prefill_resumes_from_the_prefix_left_in_the_cache(
    engine: EngineProcess,
) -> None:
    """A token count keeps the KV cache: the resumed prefill reads only the rest."""
    job = long_job(engine)
    count = TokenizeRequest(engine.next_id(), "hello world")
    engine.send(job)
    events = run_until(engine, {job.id}, on_first_progress(engine, job, count))
    order = names(events, job.id, count.id)
    assert order == [
        f"Started:{job.id}",
        f"Preempted:{job.id}",
        f"Tokenized:{count.id}",
        f"Done:{job.id}",
    ]
    paused_at = next(i for i, e in enumerate(events) if isinstance(e, Preempted))
    before, after = progress(events[:paused_at], job.id), progress(events[paused_at:], job.id)
    assert before and after and after[0].done == before[-1].done + N_BATCH
    done = events[-1]
    assert isinstance(done, Done) and done.stats.completion_tokens == REPLY
    # Every prompt token evaluated once: nothing read before the pause was read again.
    assert done.stats.prompt_tokens_evaluated == done.stats.prompt_tokens


def test_the_prompt_is_read_in_n_batch_steps_its_last_token_with_the_rest(
    engine: EngineProcess,
) -> None:
    """Batching costs no extra decode: a step of the last token alone would add a whole
    decode step's time (long on a large model) to every reply's time to first token."""
    job = CompletionRequest(
        engine.next_id(), "the the the", max_tokens=4, sampling=GREEDY, ignore_eos=True
    )
    engine.send(job)
    events = collect(engine, job.id)
    done = events[-1]
    assert isinstance(done, Done) and done.stats.prompt_tokens == 4  # BOS and three words
    assert [(p.done, p.total) for p in progress(events, job.id)] == [(2, 4), (4, 4)]
    assert done.stats.prompt_tokens_evaluated == 4 and done.stats.completion_tokens == 4


class _Model:
    """Stands for a loaded model: the watch remembers node counts per model (weakly)."""


def test_a_step_reports_its_share_of_graph_nodes_and_stops_inside_when_asked() -> None:
    """PrefillWatch without llama.cpp: a clock that moves a second per node, so every node is
    past both intervals. The first step (node count unknown) is short and silent; later
    steps are full and report the tokens their computed share stands for."""
    model = _Model()
    now = [0.0]

    def clock() -> float:
        now[0] += 1.0
        return now[0]

    reports: list[int] = []
    stop_after = [1000]

    def stop() -> bool:
        stop_after[0] -= 1
        return stop_after[0] < 0

    watch = PrefillWatch(model, reports.append, stop, clock=clock)
    assert watch.next_step(512) == FIRST_STEP
    watch.begin(0, FIRST_STEP)
    assert not any(watch.tick() for _ in range(10))  # ten nodes a step
    watch.end()
    assert reports == []  # nothing known to report a share of
    assert watch.next_step(512) == 512
    watch.begin(FIRST_STEP, 512)
    for _ in range(5):
        watch.tick()
    # Half the nodes: half the step's tokens, never the whole step before it ends.
    assert reports == [
        FIRST_STEP + 51,
        FIRST_STEP + 102,
        FIRST_STEP + 153,
        FIRST_STEP + 204,
        FIRST_STEP + 256,
    ]
    for _ in range(10):
        watch.tick()
    assert reports[-1] == FIRST_STEP + 511
    stop_after[0] = 0
    assert watch.tick() is True and watch.stopped
    assert watch.next_step(2) == 2  # never above n_batch
    assert PrefillWatch(_Model(), reports.append, stop).next_step(16) == 16


def test_a_stop_inside_a_step_keeps_the_steps_before_it_and_the_reply_unchanged(
    tiny_model: Path,
) -> None:
    """llama.cpp's abort callback stops a step part way: its tokens leave the cache, the
    steps before stay, and evaluating the rest later gives the same greedy reply as one
    uninterrupted prefill. In process, with a clock that makes every node a stop check."""
    from inference.process import llama_adapter as adapter
    from inference.protocol import EngineSettings

    llm = adapter.load_llama(
        EngineSettings(
            model_path=str(tiny_model), n_ctx=512, n_batch=64, n_threads=1, n_threads_batch=1
        )
    )
    prompt = llm.tokenize(" ".join(["the"] * 300).encode())
    ticks = [0.0]

    def clock() -> float:
        ticks[0] += 1.0
        return ticks[0]

    stop_at = {"steps": 2}
    watch = PrefillWatch(llm, lambda n: None, lambda: stop_at["steps"] <= 0, clock=clock)
    done: list[int] = []
    for in_cache in adapter.prefill_batches(llm, prompt, watch):
        done.append(in_cache)
        stop_at["steps"] -= 1
    assert watch.stopped
    assert done == [FIRST_STEP, FIRST_STEP * 2] and llm.n_tokens == FIRST_STEP * 2
    assert list(adapter.prefill_batches(llm, prompt))[-1] == len(prompt)
    resumed = [t for _, t in zip(range(8), llm.generate(prompt, temp=0.0), strict=False)]
    adapter.clear_kv_cache(llm)
    plain = [t for _, t in zip(range(8), llm.generate(prompt, temp=0.0), strict=False)]
    llm.close()
    assert resumed == plain
