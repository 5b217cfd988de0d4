"""A `hearth bench` repetition a chat turn interrupts, in the real engine (issue 12's loose
end): the engine stops the repetition (bench_run's STOP_PREEMPTED), the chat turn is served,
the runner runs the same repetition again, and the record holds the finished repetitions
only, never the interrupted one's partial figures."""

from __future__ import annotations

import statistics
from collections.abc import Callable
from pathlib import Path

import pytest

from app.models.bench import BenchRunner, BenchStep
from app.models.bench_grid import BenchPlan
from inference.protocol import (
    BenchDone,
    BenchProgress,
    ChatMessage,
    EngineSettings,
    ErrorKind,
    GenerateRequest,
    ModelInfo,
)
from inference.sync_client import EngineError, SyncEngine
from tests.support.engine_helpers import GREEDY


class ChattyEngine:
    """The real engine, with a chat turn sent into it (as the chat page's client would) at the
    first generation progress of `interrupt_seed`'s first attempt; every bench call's outcome
    is kept: the BenchDone, or the error kind."""

    def __init__(self, engine: SyncEngine, interrupt_seed: int) -> None:
        self.engine = engine
        self.interrupt_seed = interrupt_seed
        self.outcomes: list[tuple[int, BenchDone | str]] = []  # (seed, outcome)
        self.chat_id: int | None = None

    def load(self, settings: EngineSettings) -> ModelInfo:
        return self.engine.load(settings)

    def cancel(self) -> None:
        self.engine.cancel()

    def bench(
        self,
        n_prompt: int,
        n_gen: int,
        depth: int = 0,
        *,
        seed: int = 0,
        on_progress: Callable[[BenchProgress], None] | None = None,
    ) -> BenchDone:
        def progress(event: BenchProgress) -> None:
            if seed == self.interrupt_seed and self.chat_id is None and event.phase == "gen":
                process = self.engine._process
                self.chat_id = process.next_id()
                turn = (ChatMessage("user", "hi"),)
                process.send(GenerateRequest(self.chat_id, turn, 4, GREEDY))
            if on_progress is not None:
                on_progress(event)

        try:
            done = self.engine.bench(n_prompt, n_gen, depth, seed=seed, on_progress=progress)
        except EngineError as exc:
            self.outcomes.append((seed, exc.kind))
            raise
        self.outcomes.append((seed, done))
        return done


def test_a_preempted_repetition_runs_again_and_its_partial_figures_are_dropped(
    tiny_model: Path,
) -> None:
    plan = BenchPlan(n_prompt=16, n_gen=1500, depths=(0,), repetitions=2, seed=10)
    steps: list[BenchStep] = []
    settings = EngineSettings(model_path=str(tiny_model), n_ctx=2048)
    with SyncEngine.start(settings) as sync:
        engine = ChattyEngine(sync, interrupt_seed=plan.seed + 1)
        [record] = BenchRunner(engine, plan, settings, on_step=steps.append).run()
    assert engine.chat_id is not None
    seeds = [seed for seed, _ in engine.outcomes]
    kinds = [o if isinstance(o, str) else "done" for _, o in engine.outcomes]
    # warm-up, repetition 1 (interrupted by the chat turn, then again), repetition 2
    assert seeds == [plan.seed, plan.seed + 1, plan.seed + 1, plan.seed + 2]
    assert kinds == ["done", ErrorKind.BENCH_PREEMPTED, "done", "done"]
    assert record.error is None and record.repetitions == 2
    kept = [o for _, o in engine.outcomes[2:] if isinstance(o, BenchDone)]
    tg = [r.n_gen / (r.tg_ms / 1000) for r in kept]
    pp = [r.n_prompt / (r.pp_ms / 1000) for r in kept]
    # The record is made of the two finished repetitions and nothing else.
    assert record.tg_tps == pytest.approx(statistics.fmean(tg))
    assert record.tg_tps_sd == pytest.approx(statistics.stdev(tg))
    assert record.pp_tps == pytest.approx(statistics.fmean(pp))
    # The progress display counted two repetitions, the retried one under its own number.
    assert {s.repetition for s in steps if s.phase == "gen"} == {1, 2}
