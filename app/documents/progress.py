"""Progress of a summary job, with time left from the speed measured so far.

Time left (the one definition; `seconds_left` computes it):
    requests not yet finished × seconds one request takes,
where the seconds one request takes are the mean wall time of the job's finished requests.
Until the first request has finished, they come from that first request as it runs: its
time to first token (the prompt's prefill, measured) plus its answer budget (max tokens)
at the decode speed measured over its first MIN_MEASURED_TOKENS streamed tokens (an upper
bound: answers often end sooner). Before those tokens have streamed there is no estimate,
and none is shown.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

# Streamed tokens of the first request before its decode speed is trusted.
MIN_MEASURED_TOKENS = 8


@dataclass(frozen=True)
class Progress:
    phase: str  # "split" | "map" | "reduce" | "final" | "done"
    chunks_done: int
    chunks_total: int
    requests_done: int
    requests_total: int  # an estimate until the reduce levels are known
    tokens_in: int
    tokens_out: int
    seconds_left: float | None  # None until one request has been timed

    @property
    def fraction(self) -> float:
        # The reduce levels are an estimate until they run (the partials' real lengths decide
        # how many there are), so "done" is 100 % whatever the estimate said.
        if self.phase == "done":
            return 1.0
        return (
            0.0 if self.requests_total == 0 else min(1.0, self.requests_done / self.requests_total)
        )


def estimate_reduce_requests(partials: int, per_group: int) -> int:
    """Requests the reduce levels will take for `partials` summaries, `per_group` per pass."""
    per_group = max(2, per_group)
    total = 0
    while partials > per_group:
        partials = math.ceil(partials / per_group)
        total += partials
    return total


@dataclass(frozen=True)
class RunningRequest:
    """The request in the engine now, as the job measures it (monotonic seconds)."""

    started: float
    first_token: float | None
    tokens: int  # streamed so far
    budget: int  # max tokens of its answer


def seconds_left(
    finished_s: Sequence[float], requests_left: int, running: RunningRequest | None, now: float
) -> float | None:
    """Time left as the module docstring defines it; None while it cannot be measured."""
    if requests_left <= 0:
        return 0.0
    if finished_s:
        per_request = sum(finished_s) / len(finished_s)
        if running is not None:  # the running one is partly done already
            elapsed = now - running.started
            return max(0.0, per_request * requests_left - min(elapsed, per_request))
        return per_request * requests_left
    if running is None or running.first_token is None or running.tokens < MIN_MEASURED_TOKENS:
        return None
    decoding = now - running.first_token
    if decoding <= 0:
        return None
    per_token = decoding / running.tokens
    prefill = running.first_token - running.started
    per_request = prefill + running.budget * per_token
    elapsed = now - running.started
    return max(0.0, per_request * requests_left - min(elapsed, per_request))
