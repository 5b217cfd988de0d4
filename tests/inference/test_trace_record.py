"""The Trace record on its own: packed per-token times (4 bytes a token), and the flat phases
storage keeps, read back into the same Trace; a damaged record is refused, never half-read."""

from __future__ import annotations

from array import array

import pytest

from inference.protocol import CacheMiss, MissCode, RanMeanwhile, Trace
from inference.trace import pack_token_ms, unpack_token_ms


def sample() -> Trace:
    return Trace(
        started_at_ms=12.5,
        load_ms=10.0,
        template_ms=0.25,
        tokenize_ms=0.5,
        prefill_ms=40.0,
        prefill_batches=((512, 30.0), (88, 10.0)),
        first_token_at_ms=53.5,
        decode_ms=100.0,
        token_gaps=pack_token_ms(array("f", [10.0, 12.5, 9.75])),
        paused_ms=5.0,
        end_at_ms=160.0,
        tokens_reused=20,
        tokens_evaluated=600,
        tokens_reevaluated=3,
        cache_miss=CacheMiss(MissCode.MESSAGE_EDITED, at_token=20, message_index=2, role="user"),
        ran_meanwhile=(RanMeanwhile(7, "load", 0, 10.0), RanMeanwhile(8, "chat", 10, 2.5)),
        llama_prefill_ms=38.0,
        llama_prefill_tokens=600,
        llama_decode_ms=90.0,
        llama_decode_tokens=3,
        drafted=60,
        draft_accepted=41,
        draft_steps=18,
        draft_step_tokens=41 + 18,
        drafting="pays",
    )


def test_token_times_take_four_bytes_each() -> None:
    trace = sample()
    assert trace.token_ms == (10.0, 12.5, 9.75)
    assert len(trace.token_gaps) == 4 * len(trace.token_ms)
    assert unpack_token_ms(b"") == ()


def test_phases_are_flat_json_values_and_read_back_into_the_same_trace() -> None:
    trace = sample()
    phases = trace.phases()
    assert all(isinstance(v, int | float | str) for v in phases.values())
    assert phases["queue_ms"] == trace.queue_ms == 2.5  # the wait, the load left out
    assert phases["cache_miss"] == "message_edited"
    assert Trace.from_phases(phases, trace.token_ms) == trace


def test_a_trace_without_a_cache_miss_reads_back_without_one() -> None:
    trace = Trace(started_at_ms=1.0, end_at_ms=2.0)
    assert "cache_miss" not in trace.phases()
    assert Trace.from_phases(trace.phases()) == trace


def test_the_unaccounted_time_is_what_the_phases_leave_out() -> None:
    trace = sample()
    phases = 12.5 + 0.25 + 0.5 + 40.0 + 100.0 + 5.0
    assert trace.unaccounted_ms == pytest.approx(160.0 - phases)


@pytest.mark.parametrize(
    "damage",
    [
        {"prefill_batches": "not json"},
        {"ran_meanwhile": "[[1, 2]]"},
        {"decode_ms": "fast"},
        {"prefill_batches": None},
    ],
)
def test_a_damaged_record_is_refused(damage: dict) -> None:
    phases = {**sample().phases(), **damage}
    with pytest.raises(ValueError, match="damaged trace"):
        Trace.from_phases(phases)


def test_a_trace_stored_before_drafting_existed_reads_back_with_none() -> None:
    """Traces stored before issue 13 lack the drafting names: they read as no drafting."""
    phases = sample().phases()
    for name in ("drafted", "draft_accepted", "draft_steps", "draft_step_tokens", "drafting"):
        del phases[name]
    old = Trace.from_phases(phases)
    assert (old.drafted, old.draft_accepted, old.draft_steps, old.drafting) == (0, 0, 0, "")
