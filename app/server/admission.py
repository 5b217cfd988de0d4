"""The bounded line of API requests: a full line answers 429 at once instead of piling up.

The engine runs one generation at a time; `max_waiting` API requests may wait behind the one
that runs, so at most max_waiting + 1 are open (admitted and not yet answered). The window's
own work is not counted here: it goes first in the engine's queue (protocol.Priority) and
only makes the admitted requests wait longer. Event loop only (no lock needed).
"""

from __future__ import annotations

import math
from collections import deque

from app.server.errors import RATE_LIMIT, ApiError

# How many recent requests the Retry-After estimate averages.
_RECENT = 8


class Admission:
    def __init__(self, max_waiting: int) -> None:
        if max_waiting < 0:
            raise ValueError("max_waiting must be 0 or more")
        self.max_waiting = max_waiting
        self.open = 0
        self._durations: deque[float] = deque(maxlen=_RECENT)

    @property
    def capacity(self) -> int:
        return self.max_waiting + 1

    def enter(self) -> None:
        """Admit one request, or raise the 429 that tells the client when to come back."""
        if self.open >= self.capacity:
            retry = self.retry_after_s()
            raise ApiError(
                429,
                f"Hearth's server is busy: {self.open} requests are open (one generating, "
                f"at most {self.max_waiting} waiting). Try again in about {retry} s.",
                type=RATE_LIMIT,
                code="queue_full",
                headers={"Retry-After": str(retry)},
            )
        self.open += 1

    def leave(self, duration_s: float) -> None:
        """A request admitted by `enter` was answered after `duration_s` seconds."""
        self.open = max(0, self.open - 1)
        self._durations.append(duration_s)

    def retry_after_s(self) -> int:
        """Whole seconds until a place is likely free: the running request's expected length,
        the mean of the recent requests' durations (at least 1 s)."""
        if not self._durations:
            return 1
        return max(1, math.ceil(sum(self._durations) / len(self._durations)))
