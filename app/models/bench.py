"""The `hearth bench` runner (Qt-free): runs a BenchPlan through an engine, one model load
per load-affecting configuration, and turns the repetitions into stored records.

Figures, each the mean over the repetitions with the sample standard deviation (0 for one
repetition), in tokens per second:
- pp_tps: n_prompt ÷ the prompt's wall-clock time in the engine (BenchDone.pp_ms);
- tg_tps: n_gen ÷ the generation's wall-clock time in the engine (BenchDone.tg_ms);
- llama_pp_tps, llama_tg_tps: the same runs by llama.cpp's own counters
  (n_p_eval ÷ t_p_eval_ms, n_eval ÷ t_eval_ms).
A configuration that cannot run gets one record with `error` (one line) and no figures; the
others still run. Each load is followed by one untimed warm-up repetition, as llama-bench's.
"""

from __future__ import annotations

import statistics
import threading
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from app.models.bench_grid import BenchPlan, LoadGroup, load_groups
from inference.gguf import ModelFileError, inspect_gguf
from inference.kv_cache_rules import FLASH_ON
from inference.protocol import BenchDone, BenchProgress, EngineSettings, ErrorKind, ModelInfo
from inference.sync_client import EngineError
from storage.bench import BenchResultRecord

_PREEMPTED_RETRIES = 3  # a repetition a chat turn interrupted runs again, this many times


class BenchEngine(Protocol):
    """What the runner needs of an engine (inference.sync_client.SyncEngine fits)."""

    def load(self, settings: EngineSettings) -> ModelInfo: ...

    def bench(
        self,
        n_prompt: int,
        n_gen: int,
        depth: int = 0,
        *,
        seed: int = 0,
        on_progress: Callable[[BenchProgress], None] | None = None,
    ) -> BenchDone: ...

    def cancel(self) -> None: ...


@dataclass(frozen=True)
class BenchStep:
    """Where a run stands, for a progress display: configuration `index` of `count`
    (1-based), repetition `repetition` (0: loading or warming up), the engine's phase
    ("load", "warmup", "depth", "prompt", "gen") and its tokens done of total."""

    index: int
    count: int
    repetition: int
    repetitions: int
    phase: str
    done: int = 0
    total: int = 0


class BenchStopped(Exception):
    """Raised inside the runner when stop() was called; never leaves run()."""


class BenchRunner:
    def __init__(
        self,
        engine: BenchEngine,
        plan: BenchPlan,
        base: EngineSettings,
        *,
        on_step: Callable[[BenchStep], None] | None = None,
        on_line: Callable[[str], None] | None = None,
    ) -> None:
        """`base`: the user's engine settings (the model path among them); the plan's lists
        replace its load settings. `on_step` hears progress, `on_line` notes and each failed
        configuration's line."""
        self._engine = engine
        self._plan = plan
        self._base = base
        self._on_step = on_step or (lambda _step: None)
        self._on_line = on_line or (lambda _line: None)
        self._stopped = threading.Event()
        self._noted_offload: set[int] = set()
        self.run_id = str(uuid.uuid4())

    @property
    def stopped(self) -> bool:
        return self._stopped.is_set()

    def stop(self) -> None:
        """From any thread (or a signal handler): the running repetition ends at its next
        batch or token, and no further configuration starts."""
        self._stopped.set()
        self._engine.cancel()

    def run(
        self, on_result: Callable[[BenchResultRecord], None] | None = None
    ) -> list[BenchResultRecord]:
        """Every configuration's record, in grid order; after stop(), those finished so far
        (a configuration stopped midway keeps the repetitions it finished)."""
        groups = load_groups(self._plan, _context_length(self._base.model_path))
        count = sum(len(group.depths) for group in groups)
        for note in dict.fromkeys(note for group in groups for note in group.notes):
            self._on_line(note)
        results: list[BenchResultRecord] = []
        index = 0
        for group in groups:
            if self.stopped:
                break
            made = self._run_group(group, index, count)
            index += len(group.depths)
            for record in made:
                results.append(record)
                if on_result is not None:
                    on_result(record)
        return results

    # ---- one load and its depths -------------------------------------------------------

    def _run_group(self, group: LoadGroup, index: int, count: int) -> list[BenchResultRecord]:
        records: list[BenchResultRecord] = []
        if group.error is not None:
            return [self._failed(group, depth, group.error) for depth in group.depths]
        self._on_step(BenchStep(index + 1, count, 0, self._plan.repetitions, "load"))
        try:
            info = self._engine.load(group.key.settings(self._base, group.n_ctx))
            self._warm_up(index + 1, count)
        except BenchStopped:
            return []
        except EngineError as exc:
            if self.stopped:
                return []
            return [self._failed(group, depth, _line(exc)) for depth in group.depths]
        self._note_offload(group, info)
        for offset, depth in enumerate(group.depths):
            if self.stopped:
                break
            try:
                runs = self._repeat(depth, index + offset + 1, count)
            except EngineError as exc:
                records.append(self._failed(group, depth, _line(exc), info))
                continue
            if runs:
                records.append(self._record(group, depth, info, runs))
        return records

    def _note_offload(self, group: LoadGroup, info: ModelInfo) -> None:
        """More GPU layers than the build can offload is not a failure: llama.cpp runs them on
        the CPU. Say so once, since the figures are then the CPU's."""
        asked = group.key.n_gpu_layers
        if asked != 0 and not info.gpu_offload_supported and asked not in self._noted_offload:
            self._noted_offload.add(asked)
            self._on_line(
                f"n_gpu_layers {asked} asked, 0 offloaded: this llama.cpp build has no GPU "
                f"support, so every layer runs on the CPU"
            )

    def _warm_up(self, index: int, count: int) -> None:
        plan = self._plan
        self._on_step(BenchStep(index, count, 0, plan.repetitions, "warmup"))
        self._bench(min(32, plan.n_prompt), min(1, plan.n_gen), 0, plan.seed, None)

    def _repeat(self, depth: int, index: int, count: int) -> list[BenchDone]:
        plan = self._plan
        runs: list[BenchDone] = []
        for repetition in range(1, plan.repetitions + 1):
            if self.stopped:
                break

            def step(event: BenchProgress, repetition: int = repetition) -> None:
                self._on_step(
                    BenchStep(
                        index,
                        count,
                        repetition,
                        plan.repetitions,
                        event.phase,
                        event.done,
                        event.total,
                    )
                )

            seed = plan.seed + repetition
            try:
                done = self._bench(plan.n_prompt, plan.n_gen, depth, seed, step)
            except BenchStopped:
                break
            runs.append(done)
        return runs

    def _bench(
        self,
        n_prompt: int,
        n_gen: int,
        depth: int,
        seed: int,
        step: Callable[[BenchProgress], None] | None,
    ) -> BenchDone:
        for attempt in range(_PREEMPTED_RETRIES + 1):
            try:
                return self._engine.bench(n_prompt, n_gen, depth, seed=seed, on_progress=step)
            except EngineError as exc:
                if self.stopped:
                    raise BenchStopped from exc
                if exc.kind != ErrorKind.BENCH_PREEMPTED or attempt == _PREEMPTED_RETRIES:
                    raise
        raise AssertionError("unreachable")

    # ---- records -----------------------------------------------------------------------

    def _base_record(
        self, group: LoadGroup, depth: int, info: ModelInfo | None
    ) -> dict[str, object]:
        key = group.key
        return {
            "model": info.name if info else Path(self._base.model_path).stem,
            "model_path": self._base.model_path,
            "quantization": info.quantization if info else None,
            "backend": info.backend if info else "",
            "llama_cpp_version": info.llama_cpp_version if info else "",
            "n_prompt": self._plan.n_prompt,
            "n_gen": self._plan.n_gen,
            "depth": depth,
            "n_gpu_layers": key.n_gpu_layers,
            "n_gpu_layers_actual": info.n_gpu_layers if info else None,
            "threads": info.n_threads if info else key.threads,
            "n_batch": key.n_batch,
            # As llama.cpp resolved it (auto: on or off); without a load, the setting.
            "flash_attn": (info.flash_attn if info and info.flash_attn else key.flash_attn)
            == FLASH_ON,
            "type_k": key.type_k,
            "type_v": key.type_v,
            "run_id": self.run_id,
        }

    def _failed(
        self, group: LoadGroup, depth: int, error: str, info: ModelInfo | None = None
    ) -> BenchResultRecord:
        record = BenchResultRecord(**self._base_record(group, depth, info), error=error)  # type: ignore[arg-type]
        self._on_line(f"{describe(record)}: {error}")
        return record

    def _record(
        self, group: LoadGroup, depth: int, info: ModelInfo, runs: Sequence[BenchDone]
    ) -> BenchResultRecord:
        pp = [r.n_prompt / (r.pp_ms / 1000) for r in runs if r.n_prompt and r.pp_ms > 0]
        tg = [r.n_gen / (r.tg_ms / 1000) for r in runs if r.n_gen and r.tg_ms > 0]
        llama_pp = [
            r.perf.n_p_eval / (r.perf.t_p_eval_ms / 1000) for r in runs if r.perf.t_p_eval_ms > 0
        ]
        llama_tg = [r.perf.n_eval / (r.perf.t_eval_ms / 1000) for r in runs if r.perf.t_eval_ms > 0]
        return BenchResultRecord(
            **self._base_record(group, depth, info),  # type: ignore[arg-type]
            repetitions=len(runs),
            pp_tps=_mean(pp),
            pp_tps_sd=_sd(pp),
            tg_tps=_mean(tg),
            tg_tps_sd=_sd(tg),
            llama_pp_tps=_mean(llama_pp),
            llama_tg_tps=_mean(llama_tg),
        )


def describe(record: BenchResultRecord) -> str:
    """A configuration in llama-bench's option names, for one line of output."""
    threads = "auto" if record.threads is None else record.threads
    return (
        f"pp{record.n_prompt}+tg{record.n_gen} @ d{record.depth} ngl={record.n_gpu_layers} "
        f"t={threads} b={record.n_batch} fa={int(record.flash_attn)} "
        f"ctk={record.type_k} ctv={record.type_v}"
    )


def _context_length(model_path: str) -> int | None:
    """The model's training context from its GGUF header; None when unreadable (the load
    then fails with the engine's own message)."""
    try:
        return inspect_gguf(Path(model_path)).context_length
    except (ModelFileError, OSError):
        return None


def _line(exc: EngineError) -> str:
    return str(exc).splitlines()[0] if str(exc) else exc.kind


def _mean(values: Sequence[float]) -> float | None:
    return statistics.fmean(values) if values else None


def _sd(values: Sequence[float]) -> float | None:
    if not values:
        return None
    return statistics.stdev(values) if len(values) > 1 else 0.0
