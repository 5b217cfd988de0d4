"""One reply's drafting (issue 13): whether it drafts, its drafter and counters, kept over the
pauses of a preempted reply, and its token source for each run (generation.py)."""

from __future__ import annotations

import os
from collections.abc import Callable, Generator, Sequence
from typing import Any

from llama_cpp import Llama

from inference.process import llama_adapter as adapter
from inference.process import llama_rows
from inference.process.draft_switch import AUTO, ON, DraftSwitch, Plan
from inference.process.drafting import DraftLength
from inference.process.speculative import (
    DraftCounts,
    Drafter,
    Interruptible,
    ModeTimes,
    Step,
    Verifier,
    plain_steps,
)
from inference.process.trace_recorder import TraceRecorder
from inference.protocol import Sampling

# Auto drafting verifies at most this many rows in one decode. On the CPU build measured here
# (Gemma 3 270M, flash attention on; bench/verification_rows.py) rows 1-7 of a batch are
# bit-identical to one-row decoding, so a reply is the same as without drafting; from 8 rows
# llama.cpp's CPU matmul takes another path and logits move by ~1, enough to tip a near-tie.
# "on" (tests, benchmarks) still drafts up to DraftLength's own limit.
AUTO_MOST_ROWS = 7
# The switch a person (or the test suite, whose tiny random models have near-ties everywhere)
# can throw: HEARTH_DRAFTING=off makes "auto" never draft.
DRAFTING_ENV = "HEARTH_DRAFTING"


class ReplyDrafting:
    """`forced`: the request's "auto", "on" or "off"; `work`: the kind of work measured;
    `switch`: the loaded model's decisions (None: draft only when forced on); `drafter`:
    makes the drafter from the prompt (a test hook)."""

    def __init__(
        self,
        forced: str,
        work: str,
        prompt: Sequence[int],
        sampling: Sampling,
        switch: DraftSwitch | None,
        drafter: Callable[[Sequence[int]], Drafter],
        timeline: TraceRecorder,
    ) -> None:
        self.forced = forced
        self.work = work
        self.prompt = prompt
        self.sampling = sampling
        self.switch = switch
        self.timeline = timeline
        timeline.work = str(work)
        self.counts = DraftCounts()
        self.times = ModeTimes()
        self.plan: Plan | None = None
        self.on = False  # drafting now: the plan's choice until a cutoff turns it off
        self._make_drafter = drafter
        self._drafter: Drafter | None = None
        # The last row verifies the token before the drafts: AUTO_MOST_ROWS - 1 drafts.
        self._length = DraftLength(most=AUTO_MOST_ROWS - 1) if forced == AUTO else DraftLength()
        self._verifier: Verifier | None = None

    def _decide(self, llm: Llama) -> Plan:
        """Once per reply, at its first run."""
        if self.plan is None:
            forced = self.forced
            if not llama_rows.can_take_back(llm):
                self.plan = Plan(False, "not possible with this model")
            elif forced == AUTO and os.environ.get(DRAFTING_ENV) == "off":
                self.plan = Plan(False, f"turned off ({DRAFTING_ENV}=off)")
            elif forced == AUTO and not llama_rows.flash_attention_on(llm):
                # Auto drafts only with exact attention (llama_rows.flash_attention_on);
                # "on" still drafts, for tests and benchmarks that ask for it.
                self.plan = Plan(False, "needs flash attention")
            elif self.switch is not None:
                self.plan = self.switch.plan(self.work, forced)
            else:
                self.plan = Plan(forced == ON, "" if forced == AUTO else f"forced {forced}")
            self.on = self.plan.draft
            self.timeline.drafting = self.plan.reason
        return self.plan

    def steps(
        self,
        llm: Llama,
        tokens: list[int],
        ids: list[int],
        budget: int,
        stop: Callable[[], bool] | None = None,
    ) -> Generator[Step, None, None]:
        """This run's token source (`tokens`: prompt + `ids`, the reply so far): the verifier
        while the reply drafts, else Llama.generate as plain decoding always did. `stop`: this
        run's "pause or cancel now?", for a drafter that may take long (Interruptible)."""
        plan = self._decide(llm)
        sampling = self.sampling
        options: dict[str, Any] = {
            "temp": sampling.temperature,
            "top_p": sampling.top_p,
            "top_k": sampling.top_k,
            "min_p": sampling.min_p,
            "repeat_penalty": sampling.repeat_penalty,
        }
        self._verifier = None
        if not self.on:
            return plain_steps(adapter.generate(llm, tokens, ids, **options))
        prompt = self.prompt
        if self._drafter is None:
            self._drafter = self._make_drafter(prompt)
            self.timeline.drafter = str(getattr(self._drafter, "kind", ""))
        if isinstance(self._drafter, Interruptible):
            self._drafter.stop = stop  # this run's: a resumed run asks its own
        self._verifier = Verifier(
            llm, prompt, ids, options, self._drafter, self._length, budget,
            self.counts, self.times, plan.cutoff,
        )  # fmt: skip
        return self._verifier.steps()

    def run_ended(self) -> None:
        if self._verifier is not None:  # a cutoff may have ended drafting for this reply
            self.on = self._verifier.drafting
        c = self.counts
        self.timeline.drafts = (c.drafted, c.accepted, c.steps, c.step_tokens)

    def finished(self) -> None:
        """The reply ended: its speeds go to the switch."""
        if self.switch is not None:
            self.switch.record(self.work, self.times)
