"""How many prompt tokens each prefill step evaluates (issue 12): the model's batch size
unless a step of it would take longer than STEP_TARGET_S, then fewer.

Why: between two steps the engine reports PrefillProgress ("reading the prompt: 3,200 of
8,000 tokens", wanted at least twice a second) and takes a cancel or a waiting chat turn. A
step is one llama_decode, which cannot be interrupted; n_batch (512) tokens of a large model
on a CPU take seconds. Time-based, not a fixed smaller batch: on a GPU or with a small model a
full batch takes milliseconds, and smaller batches there would only cost throughput.

The rate is measured per loaded model (the step just done: tokens ÷ seconds) and carried to
its next prompt, so after the first step after a load every step is sized; the first one is a
full batch. A step never goes below MIN_STEP tokens (below that, per-call overhead and thin
matrix products cost real throughput: bench/prefill_progress.py measures it) nor above
n_batch. STEP_TARGET_S is 0.4 s, a fifth under the wanted interval: room for a step slower
than the last (the context grows, attention costs more per token), while steps stay as large
as the interval allows. Smaller steps cost throughput on a CPU (bench/prefill_progress.py,
2-core test machine, Gemma 3 270M, ~630 tok/s, a 512-token batch ~0.8 s): ~193-token steps
(this target) 0.955-0.975x one uninterrupted prefill, ~115-token steps (a 0.25 s target)
~0.89x, 64-token steps ~0.84x; the longest interval between reports was 490 ms and a cancel
took effect within one step. So on such a machine "twice a second" is bought with ~4% of
prefill speed, against the 0.98x goal: chosen because a progress line that stalls for a
second reads as a hang. Where a full batch takes under STEP_TARGET_S (any GPU, a small model
on a fast CPU) steps are n_batch and the loop does what Llama.eval does (ratio 1).
"""

from __future__ import annotations

import weakref

STEP_TARGET_S = 0.4
MIN_STEP = 64


class PrefillPacer:
    def __init__(self, target_s: float = STEP_TARGET_S, min_step: int = MIN_STEP) -> None:
        self.target_s = target_s
        self.min_step = min_step
        self._rate: float | None = None  # tokens/s of the last measured step

    def next_step(self, n_batch: int) -> int:
        if self._rate is None:
            return n_batch
        fit = int(self._rate * self.target_s)
        return max(min(self.min_step, n_batch), min(n_batch, fit))

    def measured(self, tokens: int, seconds: float) -> None:
        """One step's tokens and wall time. A step of a few tokens (the prompt's tail) says
        little about the rate and is not taken."""
        if seconds > 0 and tokens >= min(self.min_step, 32):
            self._rate = tokens / seconds


_PACERS: weakref.WeakKeyDictionary[object, PrefillPacer] = weakref.WeakKeyDictionary()


def pacer_for(llm: object) -> PrefillPacer:
    """The pacer of a loaded model (forgotten with it)."""
    pacer = _PACERS.get(llm)
    if pacer is None:
        pacer = _PACERS[llm] = PrefillPacer()
    return pacer
