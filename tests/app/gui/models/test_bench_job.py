"""The benchmark dialog's plan and words (issue 12): one configuration from the model's own
load settings, depths fitted to the loaded context, progress lines and the summary."""

from __future__ import annotations

import pytest

from app.gui.models.bench_job import BenchOutcome, BenchSizes, one_configuration
from app.gui.models.bench_text import step_text, summary
from app.models.bench import BenchStep
from inference.protocol import EngineSettings
from storage.bench import BenchResultRecord

BASE = EngineSettings(
    model_path="/m.gguf", n_gpu_layers=12, n_threads=6, n_batch=256, flash_attn=True,
    type_k="q8_0", type_v="q8_0",
)  # fmt: skip


def _record(depth: int, **changes: object) -> BenchResultRecord:
    values: dict[str, object] = dict(
        model="m", model_path="/m.gguf", n_prompt=512, n_gen=128, depth=depth,
        n_gpu_layers=0, n_batch=512, flash_attn=False, type_k="f16", type_v="f16",
        repetitions=5, pp_tps=1234.56, pp_tps_sd=12.3, tg_tps=45.67, tg_tps_sd=0.42,
    )  # fmt: skip
    values.update(changes)
    return BenchResultRecord(**values)  # type: ignore[arg-type]


def test_one_configuration_is_the_models_own_load_settings() -> None:
    plan, notes = one_configuration(BenchSizes(), BASE, None)
    assert plan.n_gpu_layers == (12,) and plan.threads == (6,) and plan.n_batch == (256,)
    assert plan.flash_attn == ("on",) and plan.type_k == ("q8_0",) and plan.type_v == ("q8_0",)
    assert plan.depths == (0, 4096) and plan.repetitions == 5 and notes == ()


def test_depths_fit_the_loaded_context_with_a_note() -> None:
    plan, [note] = one_configuration(BenchSizes(depths=(0, 4096)), BASE, 2048)
    assert plan.depths == (0, 2048 - 512 - 128)
    assert "lowered" in note and "loaded context is 2048" in note


def test_progress_lines_and_the_fraction_across_depths_and_repetitions() -> None:
    assert step_text(BenchStep(1, 2, 0, 5, "load")) == ("Depth 1 of 2 · Loading the model…", None)
    text, fraction = step_text(BenchStep(2, 2, 3, 5, "gen", 64, 128))
    assert text == "Depth 2 of 2 · Repetition 3 of 5 · generating (tg): 64 of 128 tokens"
    assert fraction == pytest.approx((5 + 2 + 0.75) / 10)
    text, fraction = step_text(BenchStep(1, 1, 1, 1, "prompt", 256, 512))
    assert text == "Repetition 1 of 1 · reading the prompt (pp): 256 of 512 tokens"
    assert fraction == pytest.approx(0.25)


def test_summary_and_the_one_failure_line() -> None:
    text = summary([_record(0), _record(4096, error="out of memory")], stopped=True)
    assert text.splitlines() == [
        "depth 0: pp512 1,235 ± 12 t/s · tg128 45.7 ± 0.4 t/s (5 runs)",
        "depth 4,096: out of memory",
        "Stopped; what was measured is stored.",
    ]
    failed = [_record(0, error="bad file", pp_tps=None, tg_tps=None)]
    assert BenchOutcome(failed).failure == "bad file"
    assert BenchOutcome([_record(0), *failed]).failure is None
