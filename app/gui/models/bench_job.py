"""The Models page's benchmark as plain blocking work (a task's worker thread): which engine
it runs on, the one configuration it measures, and storing what it measured.

Qt-free apart from EngineBridge (which it only calls): benchmark.py beside this one is the
presenter that starts it as a task and shows its progress.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from app.models.bench import BenchEngine, BenchRunner, BenchStep
from app.models.bench_grid import BenchPlan, fit_depths
from app.models.catalog import model_layout
from app.models.fit import MemoryEstimate, estimate_memory
from inference.protocol import (
    BenchDone,
    BenchProgress,
    EngineSettings,
    ErrorKind,
    ModelInfo,
)
from inference.sync_client import EngineError
from storage.bench import BenchResultRecord, BenchResultRepository


class LoadedModelBench:
    """The chat's engine as the runner's BenchEngine, for the model it has loaded: `load`
    loads nothing (the chat keeps its model and its settings) and hands back what is
    loaded; `bench` refuses once the chat switched to another model, so the figures never
    mix two models."""

    def __init__(self, engine: BenchEngine, info: Callable[[], ModelInfo | None], path: str):
        self._engine = engine
        self._info = info
        self._path = path

    def _loaded(self) -> ModelInfo:
        info = self._info()
        if info is None or info.path != self._path:
            raise EngineError(
                ErrorKind.MODEL_CHANGED,
                "The chat's model changed during the benchmark; it stopped.",
            )
        return info

    def load(self, settings: EngineSettings) -> ModelInfo:
        return self._loaded()

    def bench(
        self,
        n_prompt: int,
        n_gen: int,
        depth: int = 0,
        *,
        seed: int = 0,
        on_progress: Callable[[BenchProgress], None] | None = None,
    ) -> BenchDone:
        self._loaded()
        return self._engine.bench(n_prompt, n_gen, depth, seed=seed, on_progress=on_progress)

    def cancel(self) -> None:
        self._engine.cancel()


@dataclass(frozen=True)
class BenchSizes:
    """What the dialog asks: llama-bench's pp/tg sizes, depths and repetitions."""

    n_prompt: int = 512
    n_gen: int = 128
    depths: tuple[int, ...] = (0, 4096)
    repetitions: int = 5


@dataclass
class BenchOutcome:
    """What a run left: the stored records (in order), its notes and failure lines, and
    whether Stop ended it."""

    records: list[BenchResultRecord] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)
    stopped: bool = False

    @property
    def failure(self) -> str | None:
        """One plain line when nothing was measured (every configuration failed)."""
        failed = [r.error for r in self.records if r.error]
        if failed and len(failed) == len(self.records):
            return failed[0]
        return None


def one_configuration(
    sizes: BenchSizes, base: EngineSettings, n_ctx: int | None
) -> tuple[BenchPlan, tuple[str, ...]]:
    """The plan for the model's own load settings (a one-configuration grid), its depths
    lowered to fit `n_ctx` (the loaded context when the chat's engine runs it; None: the
    runner fits them to the model's training context itself), and notes saying so."""
    plan = BenchPlan(
        n_prompt=sizes.n_prompt,
        n_gen=sizes.n_gen,
        depths=sizes.depths or (0,),
        n_gpu_layers=(base.n_gpu_layers,),
        threads=(base.n_threads,),
        n_batch=(base.n_batch,),
        flash_attn=(base.flash_attn,),
        type_k=(base.type_k,),
        type_v=(base.type_v,),
        repetitions=sizes.repetitions,
    )
    if n_ctx is None:
        return plan, ()
    depths, notes, error = fit_depths(plan, n_ctx)
    if error is not None:
        # The runner stops with this line: a context smaller than the prompt cannot run.
        return replace(plan, depths=(0,)), ()
    return replace(plan, depths=depths), tuple(n.replace("model's", "loaded") for n in notes)


def run_benchmark(
    engine: BenchEngine,
    plan: BenchPlan,
    base: EngineSettings,
    repository: BenchResultRepository,
    *,
    notes: Sequence[str] = (),
    on_step: Callable[[BenchStep], None],
    on_line: Callable[[str], None],
    on_runner: Callable[[BenchRunner], None],
) -> BenchOutcome:
    """Run `plan` on `engine`, storing each configuration's record as it finishes (a run
    stopped or crashed midway keeps what it measured). `on_runner` receives the runner
    before it starts, so Stop can reach it."""
    outcome = BenchOutcome()

    def line(text: str) -> None:
        outcome.lines.append(text)
        on_line(text)

    def stored(record: BenchResultRecord) -> None:
        outcome.records.extend(repository.add([record]))

    for note in notes:
        line(note)
    runner = BenchRunner(engine, plan, base, on_step=on_step, on_line=line)
    on_runner(runner)
    runner.run(on_result=stored)
    outcome.stopped = runner.stopped
    return outcome


def estimate_for(
    path: str, settings: EngineSettings, n_ctx: int, models_dir: Path
) -> MemoryEstimate:
    """llama.cpp's buffers for `path` loaded with `settings` and an `n_ctx` context, from
    its header (the fit estimate). Raises ModelFileError."""
    layout = model_layout(Path(path), models_dir)
    return estimate_memory(
        layout,
        n_ctx,
        settings.n_gpu_layers,
        n_batch=settings.n_batch,
        flash_attn=settings.flash_attn,
        type_k=settings.type_k,
        type_v=settings.type_v,
    )
