"""Speculative decoding (issue 13) changes how many llama_decode calls a reply takes, never the
reply: greedy output is byte-identical to plain decoding over many prompts, seeded sampling
too, and stop strings, end of generation, max tokens, the context's end, cancel and pauses
behave as in plain decoding. The tiny random-weight model, in-process."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest
from llama_cpp import Llama

from inference.process import llama_adapter as adapter
from inference.process.draft_switch import DraftSwitch
from inference.process.generation import CANCELLED, PREEMPTED
from inference.process.reply_drafting import AUTO_MOST_ROWS
from inference.process.speculative import ModeTimes
from inference.protocol import EngineSettings, Sampling
from tests.support.speculative_runs import PROMPTS, SOURCE, ReplayDrafter, run_reply


@pytest.fixture(scope="module")
def llm(tiny_model: Path) -> Iterator[Llama]:
    settings = EngineSettings(
        model_path=str(tiny_model), n_ctx=1024, n_threads=1, n_threads_batch=1
    )
    model = adapter.load_llama(settings)
    yield model
    model.close()


def test_greedy_output_is_byte_identical_over_many_prompts(llm: Llama) -> None:
    assert len(PROMPTS) >= 30
    accepted = 0
    for prompt in PROMPTS:
        plain = run_reply(llm, prompt, "off")
        drafted = run_reply(llm, prompt, "on")
        assert drafted.ids == plain.ids, prompt
        assert drafted.text.encode() == plain.text.encode(), prompt
        assert plain.drafting.counts.drafted == 0
        accepted += drafted.drafting.counts.accepted
    # Not vacuous: drafts were made and many were right.
    assert accepted > 100


def test_seeded_sampling_is_identical_too(llm: Llama) -> None:
    """The verifier samples with the reply's own chain and RNG, once per kept token, in
    order: the same draws as plain decoding. The random model's distribution is nearly
    flat, so only a very low temperature makes drafts it accepts."""
    accepted = 0
    for temperature in (0.01, 0.05, 0.8):
        sampling = Sampling(temperature=temperature, top_k=40, top_p=0.95, seed=7)
        for prompt in PROMPTS[:12]:
            plain = run_reply(llm, prompt, "off", sampling=sampling)
            drafted = run_reply(llm, prompt, "on", sampling=sampling)
            assert drafted.ids == plain.ids, (temperature, prompt)
            accepted += drafted.drafting.counts.accepted
    assert accepted > 0


@pytest.mark.parametrize("wrong_every", [0, 2])
def test_seeded_chat_sampling_is_identical_over_long_verifications(
    llm: Llama, wrong_every: int
) -> None:
    """Hearth's chat sampling defaults (temperature 0.7, top_k 40, top_p 0.95, min_p 0.05,
    repeat penalty 1.1 over a 64-token window), replies longer than that window, several
    seeds, drafts as long as drafting makes them (13-row verifications) and rejected ones:
    the verifier makes exactly plain decoding's draws with the same chain, so the reply is
    the same wherever a verification's rows are one-row decoding's logits. Here they are up to
    float rounding (~1e-7 on this model), far from tipping a sample; on Gemma a verification
    of 8 or more rows differs by up to ~1.8 (speculative.py, bench/verification_rows.py)."""
    for seed in (1, 2, 3):
        sampling = Sampling(seed=seed)
        for prompt in PROMPTS[:4]:
            plain = run_reply(llm, prompt, "off", max_tokens=160, sampling=sampling)
            replay = ReplayDrafter(plain.ids, wrong_every)
            drafted = run_reply(
                llm, prompt, "on", max_tokens=160, sampling=sampling, drafter=lambda _, r=replay: r
            )
            assert drafted.ids == plain.ids, (seed, prompt)
            counts = drafted.drafting.counts
            if wrong_every:
                assert counts.accepted < counts.drafted  # rejected rows were sampled
            else:
                assert counts.accepted == counts.drafted
                assert counts.drafted >= 8 * counts.steps  # mostly 12 drafts, 13 rows


def test_repeat_penalty_window_matches(llm: Llama) -> None:
    sampling = Sampling(temperature=0.0, top_k=1, repeat_penalty=1.3, seed=1)
    for prompt in PROMPTS[:8]:
        plain = run_reply(llm, prompt, "off", sampling=sampling)
        drafted = run_reply(llm, prompt, "on", sampling=sampling)
        assert drafted.ids == plain.ids, prompt


def _same_end(llm: Llama, prompt: str, **options: object) -> tuple[str, str]:
    plain = run_reply(llm, prompt, "off", **options)  # type: ignore[arg-type]
    drafted = run_reply(llm, prompt, "on", **options)  # type: ignore[arg-type]
    assert drafted.ids == plain.ids
    assert drafted.text == plain.text
    assert drafted.stop_reason == plain.stop_reason
    assert len(drafted.timeline.gaps or ()) == len(plain.timeline.gaps or ())
    return plain.stop_reason, drafted.text


def test_stop_string_inside_a_verified_step(llm: Llama) -> None:
    plain = run_reply(llm, PROMPTS[0], "off", max_tokens=40)
    # A stop string from the middle of the greedy reply: it ends inside a drafted step.
    stop = plain.text[len(plain.text) // 2 :][:6]
    assert stop
    reason, text = _same_end(llm, PROMPTS[0], max_tokens=40, stops=(stop,))
    assert reason == "stop" and stop not in text


def test_max_tokens_and_end_of_generation(llm: Llama) -> None:
    for n in (1, 2, 3, 7, 20):
        reason, _ = _same_end(llm, PROMPTS[3], max_tokens=n)
        assert reason == "length"
    # Random weights end a reply wherever they like: whatever plain decoding does, drafting does.
    for prompt in PROMPTS[:10]:
        _same_end(llm, prompt, max_tokens=64, ignore_eos=False)


def test_context_end(tiny_model: Path) -> None:
    # 256: llama.cpp pads a smaller context up to it (Llama's input_ids would not follow).
    settings = EngineSettings(model_path=str(tiny_model), n_ctx=256, n_threads=1, n_threads_batch=1)
    small = adapter.load_llama(settings)
    try:
        prompt = small.tokenize(f"{SOURCE}. {SOURCE}.".encode(), add_bos=True)
        assert len(prompt) < 256
        plain = run_reply(small, prompt, "off", max_tokens=1000)
        drafted = run_reply(small, prompt, "on", max_tokens=1000)
        assert plain.stop_reason == drafted.stop_reason == "context_full"
        assert drafted.ids == plain.ids
        assert len(prompt) + len(drafted.ids) == small.n_ctx()
    finally:
        small.close()


def test_one_gap_per_token_and_counts_add_up(llm: Llama) -> None:
    drafted = run_reply(llm, PROMPTS[0], "on", max_tokens=48)
    counts = drafted.drafting.counts
    assert counts.steps > 0 and counts.accepted > 0
    assert counts.accepted <= counts.drafted
    # Verification steps keep at most accepted + 1 tokens each.
    assert counts.step_tokens <= counts.accepted + counts.steps
    gaps = drafted.timeline.gaps
    assert gaps is not None and len(gaps) == len(drafted.ids) - 1
    assert drafted.timeline.drafts == (
        counts.drafted, counts.accepted, counts.steps, counts.step_tokens,
    )  # fmt: skip
    times = drafted.drafting.times
    assert times.drafting_tokens == len(gaps) and times.plain_tokens == 0
    assert abs(times.drafting_s * 1000.0 - sum(gaps)) < 1.0


def _every(n: int, answer: str) -> object:
    calls = {"n": 0}

    def interrupt() -> str | None:
        calls["n"] += 1
        return answer if calls["n"] % n == 0 else None

    return interrupt


def test_pauses_between_steps_give_the_uninterrupted_reply(llm: Llama) -> None:
    for prompt in PROMPTS[:6]:
        plain = run_reply(llm, prompt, "off", max_tokens=40)
        paused = run_reply(llm, prompt, "on", max_tokens=40, interrupt=_every(3, PREEMPTED))  # type: ignore[arg-type]
        assert paused.preemptions > 0
        assert paused.ids == plain.ids, prompt
        assert len(paused.timeline.gaps or ()) == len(plain.ids) - 1


def test_a_pause_after_another_request_used_the_cache(llm: Llama) -> None:
    """A resume after a chat turn re-evaluates from the shared prefix, then drafts on."""
    plain = run_reply(llm, PROMPTS[1], "off", max_tokens=40)
    calls = {"n": 0}

    def interrupt() -> str | None:
        calls["n"] += 1
        if calls["n"] == 4:
            run_reply(llm, "something else entirely", "on", max_tokens=5)
            return PREEMPTED
        return None

    paused = run_reply(llm, PROMPTS[1], "on", max_tokens=40, interrupt=interrupt)
    assert paused.preemptions == 1
    assert paused.ids == plain.ids


def test_cancel_between_steps(llm: Llama) -> None:
    cancelled = run_reply(llm, PROMPTS[0], "on", max_tokens=40, interrupt=_every(4, CANCELLED))  # type: ignore[arg-type]
    plain = run_reply(llm, PROMPTS[0], "off", max_tokens=40)
    assert cancelled.stop_reason == "cancelled"
    assert 0 < len(cancelled.ids) < len(plain.ids)
    assert cancelled.ids == plain.ids[: len(cancelled.ids)]


def test_cache_is_consistent_after_a_drafted_reply(llm: Llama) -> None:
    """What the KV cache claims to hold is what it holds: a follow-up that reuses it gives
    the reply a fresh evaluation gives."""
    first = run_reply(llm, PROMPTS[2], "on", max_tokens=30)
    cached = adapter.cached_tokens(llm)
    prompt = first.request.prompt + first.ids
    assert list(cached) == prompt[: len(cached)]
    follow_up = prompt + llm.tokenize(b" and then", add_bos=False)
    warm = run_reply(llm, follow_up, "on", max_tokens=20, clear=False)
    cold = run_reply(llm, follow_up, "off", max_tokens=20)
    assert warm.timeline.reused > 0
    assert warm.ids == cold.ids


class WrongDrafter:
    """Always proposes tokens the model will not pick (a drafter made to lose)."""

    def __init__(self, prompt: Sequence[int]) -> None:
        self.tokens = list(prompt)

    def sync(self, tokens: Sequence[int], offset: int) -> None:
        self.tokens[offset:] = tokens

    def propose(self, k: int) -> list[int]:
        return [3] * k  # <0x00>: a byte token the random model never samples after text


def test_a_wrong_drafter_changes_nothing_but_the_counts(llm: Llama) -> None:
    plain = run_reply(llm, PROMPTS[0], "off")
    wrong = run_reply(llm, PROMPTS[0], "on", drafter=WrongDrafter)
    assert wrong.ids == plain.ids
    assert wrong.drafting.counts.drafted > 0
    assert wrong.drafting.counts.accepted == 0


@pytest.mark.usefixtures("auto_drafting")
def test_auto_verifies_at_most_the_rows_measured_exact(llm: Llama) -> None:
    """Auto keeps each verification to AUTO_MOST_ROWS rows (the batch sizes whose rows were
    measured bit-identical to one-row decoding); forced on drafts further."""
    switch = DraftSwitch()
    switch.record("chat", ModeTimes(plain_tokens=100, plain_s=10.0))
    switch.record("chat", ModeTimes(drafting_tokens=100, drafting_s=5.0))
    plain = run_reply(llm, PROMPTS[0], "off", max_tokens=160)
    replay = ReplayDrafter(plain.ids)  # always right: the draft length grows to its limit
    auto = run_reply(
        llm, PROMPTS[0], "auto", max_tokens=160, switch=switch, work="chat",
        drafter=lambda _, r=replay: r,
    )  # fmt: skip
    assert auto.timeline.drafting == "pays" and auto.ids == plain.ids
    counts = auto.drafting.counts
    assert counts.steps > 4
    assert counts.drafted <= (AUTO_MOST_ROWS - 1) * counts.steps
    assert counts.drafted >= (AUTO_MOST_ROWS - 2) * counts.steps  # at the cap, mostly
    again = ReplayDrafter(plain.ids)
    forced = run_reply(llm, PROMPTS[0], "on", max_tokens=160, drafter=lambda _, r=again: r)
    assert forced.drafting.counts.drafted > (AUTO_MOST_ROWS - 1) * forced.drafting.counts.steps
