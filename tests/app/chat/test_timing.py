"""The timing figures' one definition each (app/chat/timing.py) and the cache-miss sentences."""

from __future__ import annotations

import re
from array import array
from dataclasses import replace
from pathlib import Path

import pytest

from app.chat.timing import (
    cache_miss_sentence,
    decode_speed,
    draft_acceptance,
    drafting_sentence,
    end_to_end_speed,
    engine_time_to_first_token_ms,
    llama_difference_ms,
    prefill_speed,
    time_to_first_token_ms,
    timeline,
    tokens_per_step,
)
from inference.protocol import CacheMiss, MissCode, Trace
from inference.trace import pack_token_ms


def trace(**fields: object) -> Trace:
    base: dict = {
        "started_at_ms": 2.0,
        "template_ms": 1.0,
        "tokenize_ms": 1.0,
        "prefill_ms": 500.0,
        "first_token_at_ms": 504.0,
        "decode_ms": 1000.0,
        "token_gaps": pack_token_ms(array("f", [100.0] * 10)),
        "end_at_ms": 1505.0,
        "tokens_reused": 100,
        "tokens_evaluated": 1000,
        "llama_prefill_ms": 450.0,
        "llama_decode_ms": 900.0,
    }
    return Trace(**{**base, **fields})


def test_the_speeds_follow_their_definitions() -> None:
    t = trace()
    assert prefill_speed(t) == pytest.approx(2000.0)  # 1000 evaluated tokens in 0.5 s
    assert decode_speed(t) == pytest.approx(10.0)  # 10 tokens after the first in 1 s
    assert end_to_end_speed(11, 1100.0) == pytest.approx(10.0)
    assert engine_time_to_first_token_ms(t) == 504.0
    assert time_to_first_token_ms(10.0, 10.25) == pytest.approx(250.0)
    assert llama_difference_ms(t) == {"prefill_ms": 50.0, "decode_ms": 100.0}


def test_nothing_measured_gives_zero_not_an_error() -> None:
    empty = Trace(started_at_ms=0.0)
    assert prefill_speed(empty) == decode_speed(empty) == 0.0
    assert end_to_end_speed(0, 0.0) == 0.0
    assert engine_time_to_first_token_ms(empty) is None


@pytest.mark.parametrize(
    ("miss", "words"),
    [
        (CacheMiss(MissCode.FIRST_SINCE_LOAD), "just been loaded"),
        (CacheMiss(MissCode.OTHER_MODEL), "Another model was loaded"),
        (CacheMiss(MissCode.SYSTEM_CHANGED, message_index=0, role="system"), "system prompt"),
        (CacheMiss(MissCode.MESSAGE_EDITED, message_index=2, role="user"), "Your message 3"),
        (CacheMiss(MissCode.CONTEXT_SHIFTED, dropped=2), "2 earlier messages were left out"),
        (CacheMiss(MissCode.OTHER_REQUEST, other_id=7, other_kind="chat"), "#7"),
        (CacheMiss(MissCode.OTHER_REQUEST, at_token=40), "from token 40"),
        (CacheMiss(MissCode.REPLY_RETOKENIZED, role="assistant"), "ended early"),
        (CacheMiss(MissCode.PROMPT_CHANGED, at_token=9), "from token 9"),
    ],
)
def test_every_cache_miss_has_a_sentence(miss: CacheMiss, words: str) -> None:
    assert words in cache_miss_sentence(miss)


def test_the_timeline_adds_up_to_its_total() -> None:
    t = trace(cache_miss=CacheMiss(MissCode.SYSTEM_CHANGED, at_token=5, message_index=0))
    out = timeline(t, load_ms=300.0)
    phases = ("queue_ms", "load_ms", "template_ms", "tokenize_ms", "prefill_ms")
    rest = ("decode_ms", "paused_ms", "other_ms")
    assert sum(out[k] for k in (*phases, *rest)) == pytest.approx(out["total_ms"])
    assert out["total_ms"] == pytest.approx(1805.0) and out["load_ms"] == 300.0
    assert out["cache_miss"]["code"] == "system_changed"
    assert "system prompt" in out["cache_miss"]["sentence"]
    assert timeline(trace())["cache_miss"] is None


def test_the_prefill_threshold_has_one_definition() -> None:
    """MIN_PREFILL_TOKENS (too few evaluated tokens for a prefill speed) is assigned once, in
    ui/chat/stats_format.py (see prefill_speed's docstring for why there); the stats line,
    the timing view and the Performance page all read that one."""
    root = Path(__file__).resolve().parents[3]
    assigned = re.compile(r"^\s*MIN_PREFILL_TOKENS\s*(:[^=]*)?=", re.MULTILINE)
    homes = [
        path.relative_to(root).as_posix()
        for folder in ("app", "ui", "inference", "storage")
        for path in (root / folder).rglob("*.py")
        if assigned.search(path.read_text(encoding="utf-8"))
    ]
    assert homes == ["ui/chat/stats_format.py"]


def test_drafting_figures_and_their_line() -> None:
    t = trace(drafted=60, draft_accepted=41, draft_steps=18, draft_step_tokens=41, drafting="pays")
    t = replace(t, work="summary")
    assert draft_acceptance(t) == pytest.approx(41 / 60)
    assert tokens_per_step(t) == pytest.approx(41 / 18)
    assert drafting_sentence(t) == (
        "Drafting: 41 of 60 drafted tokens accepted, 2.3 tokens per step (pays)"
    )
    assert timeline(t)["drafting"] == {
        "mode": "pays",
        "drafter": "",
        "work": "summary",
        "drafted": 60,
        "accepted": 41,
        "steps": 18,
        "acceptance": pytest.approx(41 / 60),
        "tokens_per_step": pytest.approx(41 / 18),
    }
    by_model = trace(drafted=6, draft_accepted=6, draft_steps=1, draft_step_tokens=7,
                     drafting="forced on", drafter="draft model")  # fmt: skip
    assert drafting_sentence(by_model) == (
        "Drafting with the draft model: 6 of 6 drafted tokens accepted, 7.0 tokens per step "
        "(forced on)"
    )
    assert timeline(by_model)["drafting"]["drafter"] == "draft model"
    off = trace(drafting="does not pay")
    assert drafting_sentence(off) == "Drafting: none (does not pay)"
    assert draft_acceptance(off) == tokens_per_step(off) == 0.0
    assert drafting_sentence(trace()) is None  # an old trace, or drafting never considered
    assert drafting_sentence(trace(drafting="forced off")) is None
