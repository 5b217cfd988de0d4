"""Live speed (issue 12): how fast a reply's tokens are arriving, as a short series for the
status bar's speed plot while the reply streams. Defined once, here; Qt-free (the chat
presenter feeds it token arrivals and hands its points to ui/chat/speed_plot.py).

Not the reply's decode speed (app/chat/timing.py `decode_speed`, from the engine's per-token
gaps): this one is measured where the user is, on the GUI's clock, over the last second only,
so a stall or a slowdown shows while it happens.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence

WINDOW_S = 1.0  # the window each point counts tokens in
MIN_SPAN_S = 0.25  # a shorter window (just after the first token) says nothing yet
MIN_TOKENS = 3  # tokens after the first before any point: fewer is a guess, not a speed
SHOWN_S = 10.0  # how much of the series the plot keeps (the latest seconds)

Point = tuple[float, float]  # (seconds since the reply's first token, tokens/s)


def window_speed(arrivals: Sequence[float], at: float, window_s: float = WINDOW_S) -> float | None:
    """Live speed at `at`, tokens/s: the reply's tokens that reached the GUI in the window
    (start, at], start = max(at - window_s, first token's arrival), divided by the window's
    length in seconds. The first token is never counted: it marks when the stream began (the
    wait for it is time to first token, not speed); so until a full window has passed this is
    the speed since the first token. A window with no token in it is a stall: 0.

    `arrivals`: when each token arrived (monotonic seconds, ascending; a delta carrying n
    tokens gives n equal times). None, too little data, when nothing arrived, when the window
    is shorter than MIN_SPAN_S or when fewer than MIN_TOKENS tokens after the first had
    arrived by `at`."""
    if not arrivals:
        return None
    first = arrivals[0]
    start = max(at - window_s, first)
    span = at - start
    arrived = bisect_right(arrivals, at)
    if span < MIN_SPAN_S or arrived - 1 < MIN_TOKENS:
        return None
    # Tokens in (start, at]; when the window begins at the first token, all but that one.
    before = 1 if start == first else bisect_right(arrivals, start)
    return (arrived - before) / span


class LiveSpeed:
    """One reply's token arrivals and the live-speed points sampled from them so far. Every
    arrival is kept (one float per token: ~0.1 MB for a 10,000-token reply, read by bisection)
    so the MIN_TOKENS rule always sees the whole reply."""

    def __init__(self) -> None:
        self._arrivals: list[float] = []
        self._first: float | None = None
        self._points: list[Point] = []

    def add(self, at: float, n_tokens: int) -> None:
        """`n_tokens` tokens arrived at `at` (monotonic seconds)."""
        if n_tokens <= 0:
            return
        if self._first is None:
            self._first = at
        self._arrivals.extend([at] * n_tokens)

    def sample(self, at: float) -> list[Point]:
        """Adds the point for `at` when there is enough data for one, and returns the
        points of the last SHOWN_S seconds (times in seconds since the first token)."""
        if self._first is None:
            return []
        speed = window_speed(self._arrivals, at)
        if speed is not None:
            self._points.append((at - self._first, speed))
            oldest = self._points[-1][0] - SHOWN_S
            while self._points and self._points[0][0] < oldest:
                self._points.pop(0)
        return list(self._points)
