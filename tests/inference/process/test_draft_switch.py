"""The automatic switch (issue 13) drafts only where drafting measured faster, per model and
kind of work: decisions from injected measurements, and one run on the tiny model where a
drafter made to lose feeds it real measurements."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from itertools import pairwise
from pathlib import Path

import pytest
from llama_cpp import Llama

from inference.process import llama_adapter as adapter
from inference.process.draft_switch import (
    MIN_TOKENS,
    REPROBE_EVERY,
    DraftSwitch,
    DraftSwitchboard,
)
from inference.process.llama_rows import flash_attention_on
from inference.process.speculative import Cutoff, DraftCounts, ModeTimes
from inference.protocol import EngineSettings
from tests.support.speculative_runs import PROMPTS, run_reply

# Automatic drafting as users get it (the suite turns it off by default: tests/conftest.py).
pytestmark = pytest.mark.usefixtures("auto_drafting")


def plain(tps: float, tokens: int = 100) -> ModeTimes:
    return ModeTimes(plain_tokens=tokens, plain_s=tokens / tps)


def drafted(tps: float, tokens: int = 100) -> ModeTimes:
    return ModeTimes(drafting_tokens=tokens, drafting_s=tokens / tps)


def test_explores_plain_then_drafting_then_keeps_the_faster() -> None:
    switch = DraftSwitch()
    first = switch.plan("chat")
    assert not first.draft and first.reason == "measuring without drafting"
    switch.record("chat", plain(22.0))
    second = switch.plan("chat")
    assert second.draft and second.reason == "measuring with drafting"
    assert second.cutoff is not None and second.cutoff.plain_tps == pytest.approx(22.0)
    switch.record("chat", drafted(18.0))
    decisions = [switch.plan("chat") for _ in range(2)]
    assert all(not d.draft and d.reason == "does not pay" for d in decisions)
    assert switch.speeds("chat") == (pytest.approx(22.0), pytest.approx(18.0))


def test_drafting_is_kept_where_it_pays_and_per_kind_of_work() -> None:
    switch = DraftSwitch()
    switch.record("summary", plain(10.0))
    switch.record("summary", drafted(15.0))
    switch.record("chat", plain(10.0))
    switch.record("chat", drafted(9.0))
    assert switch.plan("summary").draft
    assert switch.plan("summary").reason == "pays"
    assert not switch.plan("chat").draft
    # Unknown work starts measuring.
    assert switch.plan("translation").reason == "measuring without drafting"


def test_where_drafting_lost_it_is_tried_again_ever_more_rarely() -> None:
    switch = DraftSwitch()
    switch.record("chat", plain(20.0))
    switch.record("chat", drafted(15.0))
    plans = [switch.plan("chat") for _ in range(100)]
    probes = [i for i, p in enumerate(plans) if p.draft]
    assert all(plans[i].reason == "measuring again" for i in probes)
    assert all(plans[i].cutoff is not None for i in probes)  # a probe gives up when it loses
    gaps = [b - a for a, b in pairwise(probes)]
    assert gaps[:4] == [4, 8, 16, REPROBE_EVERY] and set(gaps[4:]) == {REPROBE_EVERY}
    # A probe finds drafting faster now (the work changed): recent replies weigh most.
    for _ in range(4):
        switch.record("chat", drafted(40.0))
    assert switch.plan("chat").reason == "pays"


def test_where_drafting_pays_plain_is_measured_again_rarely() -> None:
    switch = DraftSwitch()
    switch.record("chat", plain(10.0))
    switch.record("chat", drafted(20.0))
    plans = [switch.plan("chat") for _ in range(3 * REPROBE_EVERY)]
    plain_ones = [p for p in plans if not p.draft]
    assert len(plain_ones) == 3 and all(p.reason == "measuring again" for p in plain_ones)


def test_forced_requests_obey_and_still_measure() -> None:
    switch = DraftSwitch()
    assert switch.plan("chat", "on").draft
    assert not switch.plan("chat", "off").draft
    switch.record("chat", drafted(30.0))
    assert switch.speeds("chat")[1] == pytest.approx(30.0)


def test_too_few_tokens_are_not_trusted() -> None:
    switch = DraftSwitch()
    switch.record("chat", plain(20.0, tokens=MIN_TOKENS - 1))
    assert switch.plan("chat").reason == "measuring without drafting"


def test_auto_does_not_draft_without_flash_attention(tiny_model: Path) -> None:
    settings = EngineSettings(
        model_path=str(tiny_model), n_ctx=512, n_threads=1, n_threads_batch=1, flash_attn="off"
    )
    llm = adapter.load_llama(settings)
    try:
        switch = DraftSwitch()
        switch.record("chat", plain(20.0))
        switch.record("chat", drafted(40.0))  # drafting would pay, but is not exact here
        auto = run_reply(llm, PROMPTS[0], "auto", switch=switch, work="chat")
        assert auto.timeline.drafting == "needs flash attention"
        assert auto.drafting.counts.drafted == 0
        forced = run_reply(llm, PROMPTS[0], "on", switch=switch, work="chat")
        assert forced.drafting.counts.drafted > 0
    finally:
        llm.close()


def test_auto_drafts_where_flash_attention_auto_resolved_to_on(tiny_model: Path) -> None:
    """The default setting, auto: llama.cpp turns flash attention on on a CPU, and that
    resolved value, not the setting, is what drafting's rule reads."""
    settings = EngineSettings(model_path=str(tiny_model), n_ctx=512, n_threads=1, n_threads_batch=1)
    assert settings.flash_attn == "auto"
    llm = adapter.load_llama(settings)
    try:
        assert flash_attention_on(llm)
        switch = DraftSwitch()
        switch.record("chat", plain(20.0))
        switch.record("chat", drafted(40.0))  # drafting pays here
        auto = run_reply(llm, PROMPTS[0], "auto", switch=switch, work="chat")
        assert auto.timeline.drafting == "pays"
        assert auto.drafting.counts.drafted > 0
    finally:
        llm.close()


def test_switchboard_keeps_one_switch_per_model() -> None:
    board = DraftSwitchboard()
    a = board.for_model("/m/a.gguf", 0)
    assert board.for_model("/m/a.gguf", 0) is a
    assert board.for_model("/m/a.gguf", 99) is not a
    assert board.for_model("/m/b.gguf", 0) is not a
    # A draft model drafts differently from prompt lookup: measured apart (issue 13).
    lookup = board.for_model("/m/a.gguf", 0, "prompt lookup")
    assert board.for_model("/m/a.gguf", 0, "draft model") is not lookup
    assert board.for_model("/m/a.gguf", 0, "prompt lookup") is lookup


def test_cutoff_gives_up_on_hopeless_acceptance_or_a_slower_speed() -> None:
    none = ModeTimes()
    sixteen = drafted(50.0, tokens=16)
    assert not Cutoff().gives_up(DraftCounts(drafted=16, accepted=0), none)  # too soon
    assert not Cutoff().gives_up(DraftCounts(drafted=15, accepted=0), sixteen)
    assert Cutoff().gives_up(DraftCounts(drafted=16, accepted=1), sixteen)
    assert not Cutoff().gives_up(DraftCounts(drafted=16, accepted=2), sixteen)
    counts = DraftCounts(drafted=20, accepted=15)
    assert Cutoff(20.0).gives_up(counts, drafted(17.0, tokens=16))
    assert not Cutoff(20.0).gives_up(counts, drafted(19.0, tokens=16))
    assert not Cutoff(20.0).gives_up(counts, drafted(10.0, tokens=15))  # too soon to say


class WrongDrafter:
    """Proposes twelve tokens the model does not pick, at every step: all cost, no gain."""

    def __init__(self, prompt: Sequence[int]) -> None:
        pass

    def sync(self, tokens: Sequence[int], offset: int) -> None:
        pass

    def propose(self, k: int) -> list[int]:
        return [3] * k


@pytest.fixture(scope="module")
def llm(tiny_model: Path) -> Iterator[Llama]:
    # Flash attention: without it auto never drafts (llama_rows.flash_attention_on).
    settings = EngineSettings(
        model_path=str(tiny_model), n_ctx=512, n_threads=1, n_threads_batch=1, flash_attn=True
    )
    model = adapter.load_llama(settings)
    yield model
    model.close()


def test_decides_from_the_measurements_it_records(llm: Llama) -> None:
    """Real replies in auto mode: the switch measures plain, then drafting (which gives up
    within the reply: nothing is ever accepted), and from then on decides by the speeds it
    recorded. Whatever those speeds are on this machine, the decision follows them."""
    switch = DraftSwitch()
    replies, speeds = [], []
    for i in range(6):
        speeds.append(switch.speeds("chat"))  # what the switch knows before the reply
        replies.append(
            run_reply(llm, PROMPTS[i % 8], "auto", switch=switch, drafter=WrongDrafter, work="chat")
        )
    assert replies[0].timeline.drafting == "measuring without drafting"
    assert replies[0].drafting.counts.drafted == 0
    probe = replies[1]
    assert probe.timeline.drafting == "measuring with drafting"
    # The probe gave up within the reply: hopeless acceptance, or slower than plain.
    assert probe.drafting.counts.drafted > 0 and probe.drafting.counts.accepted == 0
    assert probe.drafting.times.drafting_tokens >= MIN_TOKENS
    assert probe.drafting.times.plain_tokens > 0
    for reply, (plain_tps, drafting_tps) in zip(replies[2:], speeds[2:], strict=True):
        assert plain_tps > 0 and drafting_tps > 0
        pays = drafting_tps >= plain_tps * 1.02
        plan = reply.drafting.plan
        assert plan is not None
        if plan.reason == "measuring again":  # a rare probe of the other way
            assert plan.draft != pays
        else:
            assert plan.reason == ("pays" if pays else "does not pay")
            assert plan.draft == pays
