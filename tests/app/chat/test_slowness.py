""" "Why is this slow?": each sentence when its facts apply, with the numbers, and its absence
when they do not or when there is too little data (app/chat/slowness.py)."""

from __future__ import annotations

from array import array

from app.chat.slowness import (
    MIN_GAPS_FOR_TREND,
    SlownessFacts,
    depth_slope,
    slowness_sentences,
)
from inference.protocol import CacheMiss, MissCode, Trace
from inference.trace import pack_token_ms

GIB = 1 << 30


def trace(gaps: list[float] | None = None, **fields: object) -> Trace:
    base: dict = {
        "started_at_ms": 1.0,
        "prefill_ms": 2500.0,
        "first_token_at_ms": 2510.0,
        "tokens_reused": 0,
        "tokens_evaluated": 2000,
        "token_gaps": pack_token_ms(array("f", gaps if gaps is not None else [10.0] * 100)),
    }
    return Trace(**{**base, **fields})


def said(facts: SlownessFacts) -> str:
    return " | ".join(slowness_sentences(facts))


def test_a_fast_reply_on_a_well_set_machine_gets_no_sentence() -> None:
    facts = SlownessFacts(
        trace=trace(),
        gpu_name="RTX 4090",
        gpu_vram_bytes=24 * GIB,
        gpu_offload_supported=True,
        gpu_layers=27,
        n_layers=26,
        n_threads=8,
        physical_cores=8,
        swap_in_bytes=0,
    )
    assert slowness_sentences(facts) == []
    assert slowness_sentences(SlownessFacts()) == []  # nothing known: nothing said


def test_cpu_only_build_on_a_machine_with_a_gpu() -> None:
    text = said(
        SlownessFacts(gpu_offload_supported=False, gpu_name="RTX 3060", gpu_vram_bytes=12 * GIB)
    )
    assert "built for the CPU only" in text and "RTX 3060 with 12.0 GiB" in text
    assert said(SlownessFacts(gpu_offload_supported=False, gpu_name=None)) == ""
    assert said(SlownessFacts(gpu_offload_supported=True, gpu_name="RTX 3060")) == ""


def test_partial_offload_names_the_layers_and_what_more_vram_buys() -> None:
    facts = SlownessFacts(
        gpu_offload_supported=True, gpu_name="RTX 3060", gpu_layers=20, n_layers=32,
        vram_for_all_bytes=3 * GIB // 2,
    )  # fmt: skip
    text = said(facts)
    assert "Only 20 of 33 layers ran on the GPU; the other 13" in text
    assert "About 1.5 GiB more free VRAM would put all 33 on the GPU" in text
    none = said(SlownessFacts(gpu_offload_supported=True, gpu_name="X", gpu_layers=0, n_layers=32))
    assert "None of the model's 33 layers ran on the GPU" in none
    full = SlownessFacts(gpu_offload_supported=True, gpu_name="X", gpu_layers=33, n_layers=32)
    assert said(full) == ""
    no_gpu = SlownessFacts(gpu_offload_supported=True, gpu_name=None, gpu_layers=0, n_layers=32)
    assert said(no_gpu) == ""  # a CPU-only machine: nothing to offload to


def test_swapping_during_the_reply() -> None:
    assert "swapping during this reply: 200.0 MiB" in said(SlownessFacts(swap_in_bytes=200 << 20))
    assert said(SlownessFacts(swap_in_bytes=1 << 20)) == ""  # routine paging


def test_more_threads_than_physical_cores() -> None:
    text = said(SlownessFacts(n_threads=16, physical_cores=8))
    assert "16 threads on 8 physical CPU cores" in text
    assert said(SlownessFacts(n_threads=8, physical_cores=8)) == ""
    assert said(SlownessFacts(n_threads=16, physical_cores=None)) == ""


def test_a_prompt_read_again_because_the_cache_was_invalidated_says_by_what() -> None:
    miss = CacheMiss(MissCode.SYSTEM_CHANGED, message_index=0, role="system")
    text = said(SlownessFacts(trace=trace(cache_miss=miss, tokens_reused=3)))
    assert "The system prompt changed" in text
    assert "Reading 2,000 prompt tokens (3 reused) took 2.5 s" in text
    short = trace(cache_miss=miss, tokens_evaluated=20)
    assert said(SlownessFacts(trace=short)) == ""  # a few tokens: not why it was slow
    assert said(SlownessFacts(trace=trace(cache_miss=None))) == ""


def test_decode_slowing_with_context_depth_across_replies() -> None:
    # 10 ms a token at depth 0, +2 ms per 1,000 tokens of context.
    points = [(d, 1000.0 / (10.0 + d / 500.0)) for d in (0, 1000, 2000, 3000, 4000, 5000)]
    intercept, slope = depth_slope(points) or (0.0, 0.0)
    assert round(intercept, 3) == 10.0 and round(slope * 1000, 3) == 2.0
    text = said(SlownessFacts(trace=trace(tokens_evaluated=4000), depth_points=points))
    assert "about 2.00 ms longer per 1,000 tokens of context" in text
    assert "6 replies of this model at depths 0 to 5,000" in text
    assert "4,000 tokens that is 80% slower" in text
    shallow = SlownessFacts(trace=trace(tokens_evaluated=100), depth_points=points)
    assert "context fills" not in said(shallow)  # 2% slower at depth 100: not worth saying
    too_few = SlownessFacts(trace=trace(tokens_evaluated=4000), depth_points=points[:4])
    assert "context fills" not in said(too_few)
    narrow = [(d // 10, tps) for d, tps in points]  # depths 0..500: too narrow a span
    assert depth_slope(narrow) is None
    flat = [(d, 100.0) for d, _ in points]
    assert "context fills" not in said(SlownessFacts(trace=trace(), depth_points=flat))


def test_a_reply_that_got_slower_as_it_went_on() -> None:
    gaps = [10.0] * 50 + [14.0] * 50
    text = said(SlownessFacts(trace=trace(gaps)))
    assert "got slower as it went on: a token took 14.0 ms in its last quarter" in text
    assert "against 10.0 ms in its first (40% slower)" in text
    steady = [10.0] * 99 + [500.0]  # one stall at the end is not a trend
    assert said(SlownessFacts(trace=trace(steady))) == ""
    short = [10.0] * (MIN_GAPS_FOR_TREND // 2) + [20.0] * (MIN_GAPS_FOR_TREND // 2 - 1)
    assert said(SlownessFacts(trace=trace(short))) == ""  # too few tokens to say
