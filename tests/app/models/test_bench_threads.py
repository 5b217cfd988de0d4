"""Finding the fastest thread counts (issue 13, app/models/bench_threads.py): the candidates,
each phase judged on its own, no winner kept whose lead is within the spread, and a real
engine run that loads each count and measures both phases."""

from __future__ import annotations

from pathlib import Path

from app.models.bench_threads import (
    ThreadSearch,
    ThreadsFound,
    ThreadTrial,
    find_threads,
    pick,
    thread_candidates,
)
from app.models.settings import ModelSettings
from inference.protocol import BenchDone, EngineSettings, ModelInfo
from inference.sync_client import SyncEngine


def test_candidates_are_one_to_the_physical_cores_and_the_logical_count() -> None:
    assert thread_candidates(4, 8) == (1, 2, 3, 4, 8)
    assert thread_candidates(2, 2) == (1, 2)
    assert thread_candidates(1, 1) == (1,)


def _trials(tg: dict[int, tuple[float, ...]], pp: dict[int, tuple[float, ...]]) -> tuple:
    return tuple(ThreadTrial(n, pp.get(n, ()), tg.get(n, ())) for n in sorted(tg | pp))


def test_each_phase_gets_its_own_clear_winner() -> None:
    trials = _trials(
        tg={1: (10.0, 10.2, 9.9), 2: (18.0, 18.3, 17.9), 4: (16.0, 16.5, 15.8)},
        pp={1: (100.0, 101.0, 99.0), 2: (190.0, 192.0, 189.0), 4: (350.0, 352.0, 349.0)},
    )
    found = ThreadsFound(trials, pick("decode", trials, 1), pick("prefill", trials, 2))
    assert found.decode is not None and found.prefill is not None
    assert (found.decode.fastest, found.decode.clear) == (2, True)
    assert (found.prefill.fastest, found.prefill.clear) == (4, True)
    assert found.worth_keeping
    assert found.question() == "Keep threads=2, batch threads=4 for this model? [y/N] "
    kept = found.kept(ModelSettings(n_ctx=2048, n_threads=1))
    assert (kept.n_threads, kept.n_threads_batch, kept.n_ctx) == (2, 4, 2048)
    assert "decode: threads=2 is fastest" in found.decode.text()


def test_a_lead_within_the_spread_keeps_the_current_setting() -> None:
    trials = _trials(tg={1: (20.0, 22.0, 18.0), 2: (21.0, 23.5, 19.0)}, pp={})
    decode = pick("decode", trials, 1)
    assert decode is not None and decode.fastest == 2 and not decode.clear
    assert decode.chosen == 1
    assert decode.text().startswith("decode: no clear winner, keeping the current setting")
    found = ThreadsFound(trials, decode, pick("prefill", trials, 2))
    assert found.prefill is None and not found.worth_keeping
    assert found.kept(ModelSettings(n_threads=1)) == ModelSettings(n_threads=1)


def test_one_round_has_no_spread_so_no_winner_is_clear() -> None:
    trials = _trials(tg={1: (10.0,), 2: (30.0,)}, pp={})
    decode = pick("decode", trials, 1)
    assert decode is not None and decode.fastest == 2 and not decode.clear


def test_the_current_count_already_fastest_is_said_so() -> None:
    trials = _trials(tg={1: (10.0, 10.1), 2: (20.0, 20.1)}, pp={})
    decode = pick("decode", trials, 2)
    assert decode is not None and not decode.clear and decode.chosen == 2
    assert "threads=2 is already the fastest" in decode.text()


class CountingEngine:
    """The real engine, remembering the thread counts each load really got."""

    def __init__(self, engine: SyncEngine) -> None:
        self.engine = engine
        self.loaded: list[tuple[int, int]] = []

    def load(self, settings: EngineSettings) -> ModelInfo:
        info = self.engine.load(settings)
        self.loaded.append((info.n_threads, info.n_threads_batch))
        return info

    def bench(self, *args: object, **kwargs: object) -> BenchDone:
        return self.engine.bench(*args, **kwargs)  # type: ignore[arg-type]

    def cancel(self) -> None:
        self.engine.cancel()


def test_real_engine_measures_both_phases_for_each_count(tiny_model: Path) -> None:
    base = EngineSettings(model_path=str(tiny_model), n_ctx=512)
    with SyncEngine() as sync:
        engine = CountingEngine(sync)
        search = ThreadSearch(candidates=(1, 2), n_prompt=32, n_gen=8, rounds=2)
        found = find_threads(engine, base, search, (1, 2))
    # Interleaved rounds: each count loaded once a round, with both thread settings.
    assert engine.loaded == [(1, 1), (2, 2), (1, 1), (2, 2)]
    assert [t.threads for t in found.trials] == [1, 2]
    for trial in found.trials:
        assert trial.error is None and len(trial.pp_tps) == 2 and len(trial.tg_tps) == 2
        assert min(trial.pp_tps + trial.tg_tps) > 0
    assert found.decode is not None and found.prefill is not None and not found.stopped


def test_stop_ends_the_search_between_repetitions(tiny_model: Path) -> None:
    base = EngineSettings(model_path=str(tiny_model), n_ctx=512)
    calls: list[int] = []

    def stopped() -> bool:
        calls.append(1)
        return len(calls) > 2

    with SyncEngine() as sync:
        search = ThreadSearch(candidates=(1, 2), n_prompt=16, n_gen=4, rounds=3)
        found = find_threads(sync, base, search, (1, 1), stopped=stopped)
    assert found.stopped
    assert [len(t.tg_tps) for t in found.trials] == [1, 1]
