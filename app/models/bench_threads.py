"""Finding the fastest CPU thread counts for one model on this machine (issue 13): prefill
(n_threads_batch) and decode (n_threads) are measured for each candidate count and judged
separately, and a winner is offered only when its lead is larger than the spread.

Each round loads the model once per candidate count (n_threads = n_threads_batch = the count,
through the engine's load) and runs one short `hearth bench` repetition on it; the rounds
interleave the candidates, so a drift in the machine's load hits them alike. The first load
of each count is followed by an untimed warm-up repetition, as `hearth bench` does.

Figures, tokens per second, each the mean over the rounds with the sample standard deviation:
- prefill: n_prompt ÷ BenchDone.pp_ms (the engine's wall clock from before the first prompt
  batch's llama_decode to after the last one's), with n_threads_batch = the count;
- decode: n_gen ÷ BenchDone.tg_ms (from before the first generated token's llama_decode to
  after the last one's), with n_threads = the count.
A count is the clear winner of a phase only if its mean beats the current setting's by more
than the two spreads together (mean - sd of the winner above mean + sd of the current one,
each over at least two rounds); otherwise the current setting stays.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from app.models.bench import BenchEngine, BenchStep
from app.models.settings import ModelSettings
from inference.protocol import BenchDone, EngineSettings
from inference.sync_client import EngineError


def thread_candidates(physical: int, logical: int) -> tuple[int, ...]:
    """1 .. physical cores, and the logical CPU count when there are more (SMT)."""
    counts = list(range(1, max(1, physical) + 1))
    if logical > counts[-1]:
        counts.append(logical)
    return tuple(counts)


@dataclass(frozen=True)
class ThreadTrial:
    """One count's repetitions: prefill and decode tokens/s, one entry per round."""

    threads: int
    pp_tps: tuple[float, ...] = ()
    tg_tps: tuple[float, ...] = ()
    error: str | None = None


@dataclass(frozen=True)
class Spread:
    mean: float
    sd: float
    n: int = 1

    @staticmethod
    def of(values: Sequence[float]) -> Spread:
        sd = statistics.stdev(values) if len(values) > 1 else 0.0
        return Spread(statistics.fmean(values), sd, len(values))

    def clearly_above(self, other: Spread) -> bool:
        """Ahead by more than both spreads; never on a single run (no spread known)."""
        if min(self.n, other.n) < 2:
            return False
        return self.mean - self.sd > other.mean + other.sd

    def __str__(self) -> str:
        return f"{self.mean:.1f} ± {self.sd:.1f}"


@dataclass(frozen=True)
class ThreadPick:
    """One phase's verdict: the fastest count, the current one, and whether the fastest
    leads by more than the spread (then it is offered; else the current setting stays)."""

    phase: str  # "decode" | "prefill"
    fastest: int
    fastest_speed: Spread
    current: int
    current_speed: Spread | None  # None: the current count was not measured
    clear: bool

    @property
    def chosen(self) -> int:
        return self.fastest if self.clear else self.current

    def text(self) -> str:
        name = "threads" if self.phase == "decode" else "batch threads"
        if self.fastest == self.current:
            speed = self.fastest_speed
            return f"{self.phase}: {name}={self.current} is already the fastest ({speed} t/s)"
        now = f"{self.current_speed} t/s" if self.current_speed else "not measured"
        if self.clear:
            return (
                f"{self.phase}: {name}={self.fastest} is fastest ({self.fastest_speed} t/s; "
                f"now {name}={self.current}: {now})"
            )
        return (
            f"{self.phase}: no clear winner, keeping the current setting {name}={self.current} "
            f"({now}; fastest {self.fastest} at {self.fastest_speed} t/s is within the spread)"
        )


def pick(phase: str, trials: Sequence[ThreadTrial], current: int) -> ThreadPick | None:
    """The verdict for `phase` ("decode": tg_tps, "prefill": pp_tps); None when no count
    was measured."""
    speeds = {
        t.threads: Spread.of(values)
        for t in trials
        if (values := t.tg_tps if phase == "decode" else t.pp_tps)
    }
    if not speeds:
        return None
    fastest = max(speeds, key=lambda n: speeds[n].mean)
    best, now = speeds[fastest], speeds.get(current)
    if fastest == current:
        clear = False
    elif now is None:
        # Nothing to compare with: the fastest must at least beat the runner-up clearly.
        others = [s for n, s in speeds.items() if n != fastest]
        second = max(others, key=lambda s: s.mean, default=None)
        clear = second is not None and best.clearly_above(second)
    else:
        clear = best.clearly_above(now)
    return ThreadPick(phase, fastest, best, current, now, clear)


@dataclass(frozen=True)
class ThreadsFound:
    trials: tuple[ThreadTrial, ...]
    decode: ThreadPick | None
    prefill: ThreadPick | None
    stopped: bool = False

    @property
    def worth_keeping(self) -> bool:
        """Some phase has a clear winner that is not the current setting."""
        return any(p is not None and p.clear for p in (self.decode, self.prefill))

    def question(self) -> str:
        threads = self.decode.chosen if self.decode else "?"
        batch = self.prefill.chosen if self.prefill else "?"
        return f"Keep threads={threads}, batch threads={batch} for this model? [y/N] "

    def kept(self, own: ModelSettings) -> ModelSettings:
        """`own` with the clear winners as the model's thread settings (others unchanged)."""
        values = {}
        if self.decode is not None and self.decode.clear:
            values["n_threads"] = self.decode.fastest
        if self.prefill is not None and self.prefill.clear:
            values["n_threads_batch"] = self.prefill.fastest
        return replace(own, **values)


@dataclass(frozen=True)
class ThreadSearch:
    """Short runs by default: a 128-token prompt and 32 generated tokens, 3 rounds."""

    candidates: tuple[int, ...]
    n_prompt: int = 128
    n_gen: int = 32
    rounds: int = 3
    seed: int = 0


def find_threads(
    engine: BenchEngine,
    base: EngineSettings,
    search: ThreadSearch,
    current: tuple[int, int],
    *,
    on_step: Callable[[BenchStep], None] | None = None,
    stopped: Callable[[], bool] = lambda: False,
) -> ThreadsFound:
    """Measure every candidate count (see the module's docstring) and judge each phase
    against `current` (decode, prefill) threads. A count whose load or run fails is left
    out with its error; `stopped()` ends the search between two repetitions."""
    step = on_step or (lambda _s: None)
    n_ctx = search.n_prompt + search.n_gen + 64
    pp: dict[int, list[float]] = {n: [] for n in search.candidates}
    tg: dict[int, list[float]] = {n: [] for n in search.candidates}
    errors: dict[int, str] = {}
    warmed: set[int] = set()
    count = len(search.candidates)
    halted = False
    for round_no in range(1, search.rounds + 1):
        for index, threads in enumerate(search.candidates, 1):
            if threads in errors:
                continue
            if stopped():
                halted = True
                break
            step(BenchStep(index, count, round_no, search.rounds, "load"))
            settings = replace(base, n_ctx=n_ctx, n_threads=threads, n_threads_batch=threads)
            try:
                engine.load(settings)
                if threads not in warmed:
                    engine.bench(min(32, search.n_prompt), min(1, search.n_gen), 0)
                    warmed.add(threads)
                done = engine.bench(
                    search.n_prompt, search.n_gen, 0, seed=search.seed + round_no,
                    on_progress=lambda e, i=index, r=round_no: step(
                        BenchStep(i, count, r, search.rounds, e.phase, e.done, e.total)
                    ),
                )  # fmt: skip
            except EngineError as exc:
                if stopped():
                    halted = True
                    break
                errors[threads] = str(exc).split("\n", 1)[0]
                continue
            _add(done, pp[threads], tg[threads])
        if halted:
            break
    trials = tuple(
        ThreadTrial(n, tuple(pp[n]), tuple(tg[n]), errors.get(n)) for n in search.candidates
    )
    return ThreadsFound(
        trials, pick("decode", trials, current[0]), pick("prefill", trials, current[1]), halted
    )


def _add(done: BenchDone, pp: list[float], tg: list[float]) -> None:
    if done.n_prompt and done.pp_ms > 0:
        pp.append(done.n_prompt / (done.pp_ms / 1000))
    if done.n_gen and done.tg_ms > 0:
        tg.append(done.n_gen / (done.tg_ms / 1000))
