"""Progress of a summary job, with time left from the speed measured so far."""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class Progress:
    phase: str  # "split" | "map" | "reduce" | "final" | "done"
    chunks_done: int
    chunks_total: int
    requests_done: int
    requests_total: int  # an estimate until the reduce levels are known
    tokens_in: int
    tokens_out: int
    elapsed_s: float
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
