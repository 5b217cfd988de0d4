"""Speculative decoding's token loop (issue 13): drafted tokens verified by the main model.

Each step evaluates the reply's last token plus up to k drafted tokens (drafting.py) in ONE
llama_decode with logits for every row, then samples the main model's token at each row with
the reply's own sampler (the same chain and RNG plain decoding uses: greedy is the argmax) and
stops at the first row where it differs from the draft, keeping the sampled token. Each kept
token is drawn from its row's logits exactly as plain decoding draws it (the same chain, RNG
draw and repeat-penalty window); only the number of llama_decode calls changes. The rejected
rows are taken back out of the KV cache.

So the reply is plain decoding's, byte for byte, where a row's logits are bit-identical to a
one-row decode's. Not always so: llama.cpp's CPU Q4_K matrix product rounds differently for
8 or more rows (Gemma 3 270M Q4_K_M, flash attention on: rows of 2-7-row decodes bit-identical,
of 8-16-row ones off by up to 1.0-1.8 in the logits; 1.5e-5 at the first layer's attention
output product, grown over 18 layers; the KV entries such a step keeps move later one-row steps
as much). A near-tie may then tip, greedy or sampled: the reply is no longer plain decoding's,
but still follows the main model's distribution, each row being the model's own evaluation
rounded another way, as plain decoding's is after another prefill split (72 rows against
64 + 8 move the prompt's last logits by 1.2). bench/verification_rows.py measures it.

`Verifier.steps()` yields one `Step` per llama_decode: the first from the prompt's logits,
then one per verification. Between two steps the caller (generation.py) handles each token
exactly as plain decoding does (end of generation, stop strings, max tokens, cancel, pause)
and appends the ones it keeps to `ids`, which the next step reads: its last id is the token
to evaluate next, and the KV cache holds everything before it.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple, Protocol, runtime_checkable

from llama_cpp import Llama

from inference.process import llama_rows
from inference.process.drafting import DraftLength

# Auto mode stops drafting within a reply, once it has decoded this many tokens with drafting,
# when fewer than HOPELESS_RATE of its drafted tokens (at least this many) were accepted, or
# when those tokens came slower than SLOWER_THAN times the plain speed measured before.
JUDGE_AFTER = 16
HOPELESS_RATE = 0.1
SLOWER_THAN = 0.9


class Drafter(Protocol):
    def sync(self, tokens: Sequence[int], offset: int) -> None: ...

    def propose(self, k: int) -> list[int]: ...


@runtime_checkable
class Interruptible(Protocol):
    """A drafter whose proposal may take long (a draft model reading a long prompt): `stop`,
    set for each run of the reply (reply_drafting.py), is asked between its steps; True makes
    it propose nothing now, keeping the work done for the next proposal."""

    stop: Callable[[], bool] | None


class Step(NamedTuple):
    tokens: list[int]  # sampled by the main model, in order
    drafting: bool  # made while drafting was on (its time counts as drafting's)
    drafted: int  # drafted tokens it verified (0: a plain one-token step)


@dataclass
class DraftCounts:
    """A reply's drafting, summed over its runs. `steps`: verification steps, the decodes
    that carried at least one drafted token; `drafted`/`accepted`: drafted tokens they
    carried / that the main model sampled too; `step_tokens`: tokens the reply kept from
    them (accepted ones plus the one sampled after the last of them, fewer when the reply
    ended inside a step), so tokens per step = step_tokens / steps."""

    drafted: int = 0
    accepted: int = 0
    steps: int = 0
    step_tokens: int = 0


@dataclass
class ModeTimes:
    """A reply's decode time split by whether drafting was on: the per-token gaps
    (inference/trace.py `token_ms`) of the tokens made with / without drafting, summed, and
    their counts. Decode speed (app/chat/timing.py) restricted to either kind of token."""

    drafting_tokens: int = 0
    drafting_s: float = 0.0
    plain_tokens: int = 0
    plain_s: float = 0.0

    def add(self, drafting: bool, tokens: int, seconds: float) -> None:
        if drafting:
            self.drafting_tokens += tokens
            self.drafting_s += seconds
        else:
            self.plain_tokens += tokens
            self.plain_s += seconds


@dataclass(frozen=True)
class Cutoff:
    """When auto mode gives up drafting for the rest of a reply (see JUDGE_AFTER).
    `plain_tps`: this model's measured plain decode speed for this work, None if unknown."""

    plain_tps: float | None = None

    def gives_up(self, counts: DraftCounts, times: ModeTimes) -> bool:
        # Never before JUDGE_AFTER tokens: the switch needs that many to trust a speed.
        if times.drafting_tokens < JUDGE_AFTER or times.drafting_s <= 0:
            return False
        if counts.drafted >= JUDGE_AFTER and counts.accepted < HOPELESS_RATE * counts.drafted:
            return True
        speed = times.drafting_tokens / times.drafting_s
        return bool(self.plain_tps) and speed < SLOWER_THAN * (self.plain_tps or 0.0)


class Verifier:
    """One run's token source with drafting (see the module doc). `budget`: the reply's
    most tokens (drafts never run past it, nor past the context); `cutoff`: None drafts to
    the end (drafting forced on)."""

    def __init__(
        self,
        llm: Llama,
        prompt: Sequence[int],
        ids: list[int],
        sampling: dict[str, Any],
        drafter: Drafter,
        length: DraftLength,
        budget: int,
        counts: DraftCounts,
        times: ModeTimes,
        cutoff: Cutoff | None,
        drafting: bool = True,
    ) -> None:
        self.llm = llm
        self.prompt = prompt
        self.ids = ids
        self.sampling = sampling
        self.drafter = drafter
        self.length = length
        self.budget = budget
        self.counts = counts
        self.times = times
        self.cutoff = cutoff
        self.drafting = drafting

    def steps(self) -> Generator[Step, None, None]:
        llm, ids, counts = self.llm, self.ids, self.counts
        offset = len(self.prompt)
        llama_rows.evaluate_prompt(llm, [*self.prompt, *ids])
        sampler = llama_rows.reply_sampler(llm, ids, **self.sampling)
        yield Step([llama_rows.sample_row(llm, sampler, -1)], self.drafting, 0)
        most = max(0, int(llm.n_batch) - 1)
        while True:
            drafts: list[int] = []
            if self.drafting:
                room = llama_rows.free_rows(llm) - 1  # the last kept token's row first
                k = min(self.length.k, self.budget - len(ids) - 1, most, room)
                if k > 0:
                    self.drafter.sync(ids, offset)
                    drafts = self.drafter.propose(k)
            llama_rows.decode_rows(llm, [ids[-1], *drafts])
            before = llm.n_tokens - len(drafts)  # the cache up to the last kept token
            out: list[int] = []
            for row, draft in enumerate(drafts):
                token = llama_rows.sample_row(llm, sampler, row)
                out.append(token)
                if token != draft:
                    break
            else:
                out.append(llama_rows.sample_row(llm, sampler, len(drafts)))
            accepted = len(out) - 1
            llama_rows.keep_cached(llm, before + accepted)
            if drafts:
                counts.drafted += len(drafts)
                counts.accepted += accepted
                counts.steps += 1
                self.length.update(len(drafts), accepted)
            yield Step(out, self.drafting, len(drafts))
            cutoff = self.cutoff
            if self.drafting and cutoff is not None and cutoff.gives_up(counts, self.times):
                self.drafting = False


def plain_steps(tokens: Generator[int, Any, None]) -> Generator[Step, None, None]:
    """Plain decoding's tokens (llama_adapter.generate) as one-token steps."""
    try:
        for token in tokens:
            yield Step([token], False, 0)
    finally:
        tokens.close()
