"""The `hearth bench` runner (app/models/bench.py, bench_grid.py): the grid, one load per
load-affecting configuration, mean and spread over repetitions, a failed configuration's one
line while the others run, stop, and a repetition a chat turn interrupted running again."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.models.bench import BenchRunner, BenchStep
from app.models.bench_grid import BenchPlan, fit_depths, load_groups
from inference.protocol import EngineSettings, ErrorKind
from inference.sync_client import SyncEngine
from tests.support.bench_engine import ScriptedBenchEngine
from tests.support.tiny_gguf import build_corrupt_variants


def test_depths_are_lowered_to_fit_the_model_context_once_with_a_note() -> None:
    plan = BenchPlan(n_prompt=512, n_gen=128, depths=(0, 4096, 8192))
    depths, notes, error = fit_depths(plan, 2048)
    assert depths == (0, 1408) and error is None
    assert notes[0].startswith("depth 4096 lowered to 1408") and len(notes) == 2
    assert fit_depths(plan, None) == ((0, 4096, 8192), (), None)
    assert fit_depths(BenchPlan(n_prompt=4000), 2048)[2] is not None


def test_the_grid_loads_once_per_load_setting_and_sizes_the_context_for_the_deepest() -> None:
    plan = BenchPlan(n_batch=(64, 128, 64), flash_attn=(False, True), depths=(0, 100))
    groups = load_groups(plan, 4096)
    assert [(g.key.n_batch, g.key.flash_attn) for g in groups] == [
        (64, False),
        (64, True),
        (128, False),
        (128, True),
    ]
    assert {g.n_ctx for g in groups} == {100 + 512 + 128}


def test_real_engine_runs_every_configuration_with_figures(tiny_model: Path) -> None:
    plan = BenchPlan(n_prompt=64, n_gen=8, depths=(0, 100), n_batch=(32, 64), repetitions=2)
    steps: list[BenchStep] = []
    with SyncEngine() as engine:
        base = EngineSettings(model_path=str(tiny_model))
        records = BenchRunner(engine, plan, base, on_step=steps.append).run()
    assert [(r.n_batch, r.depth) for r in records] == [(32, 0), (32, 100), (64, 0), (64, 100)]
    for r in records:
        assert r.error is None and r.repetitions == 2 and r.threads == 1
        assert r.model == "tiny-test" and r.backend == "CPU" and r.n_gpu_layers_actual == 0
        for value in (r.pp_tps, r.tg_tps, r.llama_pp_tps, r.llama_tg_tps):
            assert value is not None and value > 0
        assert r.pp_tps_sd is not None and r.tg_tps_sd is not None
    assert {s.phase for s in steps} >= {"load", "warmup", "depth", "prompt", "gen"}
    assert {s.count for s in steps} == {4}


def test_a_failed_configuration_gives_one_line_and_the_others_run(tiny_model: Path) -> None:
    plan = BenchPlan(
        n_prompt=32, n_gen=4, depths=(0,), flash_attn=("off",), type_v=("q4_0", "f16"),
        repetitions=1,
    )  # fmt: skip
    lines: list[str] = []
    with SyncEngine() as engine:
        base = EngineSettings(model_path=str(tiny_model))
        bad, good = BenchRunner(engine, plan, base, on_line=lines.append).run()
    assert bad.error and "quantized V cache needs flash attention" in bad.error
    assert bad.tg_tps is None and good.error is None and good.tg_tps
    assert len(lines) == 1 and "ctv=q4_0" in lines[0] and "\n" not in lines[0]


def test_a_model_that_fails_to_load_fails_each_configuration(tmp_path: Path) -> None:
    broken = build_corrupt_variants(tmp_path)["bad_heads"]
    plan = BenchPlan(n_prompt=32, n_gen=4, depths=(0, 64), repetitions=1)
    lines: list[str] = []
    with SyncEngine() as engine:
        base = EngineSettings(model_path=str(broken))
        records = BenchRunner(engine, plan, base, on_line=lines.append).run()
    assert [r.depth for r in records] == [0, 64]
    assert all(r.error and r.pp_tps is None for r in records) and len(lines) == 2


def test_stop_keeps_the_repetitions_finished_and_starts_nothing_more(tiny_model: Path) -> None:
    plan = BenchPlan(n_prompt=64, n_gen=400, depths=(0, 64), n_batch=(32, 64), repetitions=3)
    with SyncEngine() as engine:
        runner: BenchRunner

        def on_step(step: BenchStep) -> None:
            if step.repetition == 2 and step.phase == "prompt":
                runner.stop()

        runner = BenchRunner(
            engine, plan, EngineSettings(model_path=str(tiny_model)), on_step=on_step
        )
        records = runner.run()
    assert runner.stopped
    [record] = records
    assert record.repetitions == 1 and record.error is None and record.tg_tps


def test_a_repetition_a_chat_turn_interrupted_runs_again() -> None:
    engine = ScriptedBenchEngine([None, ErrorKind.BENCH_PREEMPTED, None, None])
    plan = BenchPlan(n_prompt=10, n_gen=5, depths=(0,), repetitions=2)
    [record] = BenchRunner(engine, plan, EngineSettings(model_path="/none.gguf")).run()
    # warm-up, repetition 1 (interrupted, then again), repetition 2
    assert [c[3] for c in engine.calls] == [0, 1, 1, 2]
    assert record.repetitions == 2
    assert record.pp_tps == pytest.approx(100.0) and record.pp_tps_sd == 0.0
    assert record.tg_tps == pytest.approx(5.0) and record.llama_tg_tps == pytest.approx(5 / 0.95)
    assert record.tg_ratio == pytest.approx(0.95)
