"""The engine's llama-bench-style run (inference/process/bench_run.py) on a tiny model, through
the real engine process: figures and llama.cpp's counters for the same decodes, progress,
cancel, a chat turn going first, and settings llama.cpp refuses."""

from __future__ import annotations

from pathlib import Path

import pytest

from inference.engine_process import EngineProcess
from inference.protocol import (
    BenchDone,
    BenchProgress,
    BenchRequest,
    ChatMessage,
    Done,
    EngineSettings,
    Error,
    ErrorKind,
    GenerateRequest,
    LoadRequest,
    Priority,
)
from inference.sync_client import EngineError, SyncEngine
from tests.support.engine_helpers import GREEDY, collect


def test_run_reports_wall_clock_and_llama_counters_for_the_same_tokens(tiny_model: Path) -> None:
    progress: list[BenchProgress] = []
    settings = EngineSettings(model_path=str(tiny_model), n_ctx=1024, n_batch=64)
    with SyncEngine.start(settings) as engine:
        done = engine.bench(200, 16, depth=100, seed=3, on_progress=progress.append)
        assert (done.n_prompt, done.n_gen, done.depth) == (200, 16, 100)
        assert done.pp_ms > 0 and done.tg_ms > 0
        # The depth phase is not counted; the prompt is, in full, and each generated token.
        assert done.perf.n_p_eval == 200 and done.perf.n_eval == 16
        assert 0 < done.perf.t_p_eval_ms <= done.pp_ms
        assert 0 < done.perf.t_eval_ms <= done.tg_ms
        # The cache is left empty: a chat afterwards evaluates its whole prompt and works.
        reply = engine.chat([ChatMessage("user", "hi")], max_tokens=4, sampling=GREEDY)
        assert reply.stats.prompt_tokens_evaluated == reply.stats.prompt_tokens
    phases = [(p.phase, p.done, p.total) for p in progress]
    assert phases[:2] == [("depth", 64, 100), ("depth", 100, 100)]
    assert [p for p in phases if p[0] == "prompt"] == [
        ("prompt", 64, 200),
        ("prompt", 128, 200),
        ("prompt", 192, 200),
        ("prompt", 200, 200),
    ]
    assert phases[-1] == ("gen", 16, 16)


def test_a_run_that_does_not_fit_the_context_is_refused(tiny_model: Path) -> None:
    with SyncEngine.start(EngineSettings(model_path=str(tiny_model), n_ctx=256)) as engine:
        with pytest.raises(EngineError) as refused:
            engine.bench(200, 64, depth=100)
        assert refused.value.kind == ErrorKind.BAD_REQUEST
        assert "do not fit the loaded context of 256" in str(refused.value)
        assert engine.bench(100, 8).n_gen == 8  # still usable


def test_cancel_between_tokens_ends_the_run(tiny_model: Path) -> None:
    with SyncEngine.start(EngineSettings(model_path=str(tiny_model), n_ctx=2048)) as engine:
        seen: list[BenchProgress] = []

        def on_progress(event: BenchProgress) -> None:
            seen.append(event)
            engine.cancel()  # from the prompt phase's only batch

        with pytest.raises(EngineError) as cancelled:
            engine.bench(512, 1500, on_progress=on_progress)
        assert cancelled.value.kind == ErrorKind.CANCELLED
        assert seen[0].phase == "prompt"
        assert seen[-1].done < 1500  # generation never got to its end
        engine.reset_cancel()
        assert engine.bench(16, 4).perf.n_eval == 4


def test_a_chat_turn_goes_first_and_the_run_gives_way(tiny_model: Path) -> None:
    engine = EngineProcess()
    engine.start()
    try:
        settings = EngineSettings(model_path=str(tiny_model), n_ctx=2048)
        engine.send(LoadRequest(1, settings))
        collect(engine, 1)
        engine.send(BenchRequest(2, n_prompt=16, n_gen=1800))
        first = engine.recv(60)
        assert isinstance(first, BenchProgress)  # running now
        chat = GenerateRequest(3, (ChatMessage("user", "hi"),), 4, GREEDY)
        engine.send(chat)
        ended = []
        while not ended:  # the run's progress until it ends
            event = engine.recv(60)
            if getattr(event, "id", None) == 2 and not isinstance(event, BenchProgress):
                ended.append(event)
        [error] = ended
        assert isinstance(error, Error) and error.kind == ErrorKind.BENCH_PREEMPTED
        assert isinstance(collect(engine, 3)[-1], Done)
    finally:
        engine.stop()


@pytest.mark.parametrize(
    ("changes", "says"),
    [
        ({"type_k": "q3_x"}, "unknown KV cache type 'q3_x'"),
        ({"type_v": "q4_0", "flash_attn": "off"}, "quantized V cache needs flash attention"),
        ({"n_ctx": 50_000_000}, "not enough memory for this context size"),
    ],
)
def test_settings_llama_cpp_refuses_fail_with_one_clear_message(
    tiny_model: Path, changes: dict[str, object], says: str
) -> None:
    settings = EngineSettings(model_path=str(tiny_model), **changes)  # type: ignore[arg-type]
    with pytest.raises(EngineError) as refused:
        SyncEngine.start(settings).close()
    assert refused.value.kind == ErrorKind.BAD_REQUEST
    assert says in str(refused.value) and "\n" not in str(refused.value)


def test_done_event_is_what_the_sync_client_returns(tiny_model: Path) -> None:
    with SyncEngine.start(EngineSettings(model_path=str(tiny_model), n_ctx=512)) as engine:
        assert isinstance(engine.bench(8, 0), BenchDone)
    assert BenchRequest(1).priority == Priority.BACKGROUND
