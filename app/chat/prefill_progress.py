"""What the chat shows where the reply will appear while the engine reads a long prompt
(issue 12): "reading the prompt: 3,200 of 8,000 tokens, about 4 s left". Qt-free.

The rate behind "about N s left" is measured, per request, from its first progress report to
its latest: tokens read in between ÷ the seconds in between (GUI clock, perf_counter). The
first report's count is not in it: it holds the cached prefix and a batch whose time began
before the report. The estimate is shown only once MIN_ESTIMATE_TOKENS tokens and
MIN_ESTIMATE_S seconds were measured: below that one batch's jitter, a thread scheduled late,
decides the figure (a 2-batch sample said "about 1 s left" and then "about 9 s left").
The engine's count includes a batch in progress by the share of its computation done
(inference/process/prefill_watch.py), so reports come every 0.25 s even when one batch takes
seconds.
"""

from __future__ import annotations

MIN_ESTIMATE_TOKENS = 256
MIN_ESTIMATE_S = 0.5


class PrefillEstimate:
    """One request's reading of its prompt, fed each PrefillProgress as it arrives."""

    def __init__(self) -> None:
        self._first: tuple[float, int] | None = None  # (seconds, done) at the first report
        self.done = 0
        self.total = 0
        self.seconds_left: float | None = None

    def report(self, now_s: float, done: int, total: int) -> None:
        self.done, self.total = done, total
        if self._first is None:
            self._first = (now_s, done)
            return
        t0, done0 = self._first
        read, elapsed = done - done0, now_s - t0
        if read >= MIN_ESTIMATE_TOKENS and elapsed >= MIN_ESTIMATE_S:
            self.seconds_left = (total - done) / (read / elapsed)

    @property
    def reading(self) -> bool:
        """More of the prompt is left to read (a one-batch prompt shows nothing)."""
        return self.done < self.total


def progress_text(done: int, total: int, seconds_left: float | None = None) -> str:
    """``reading the prompt: 3,200 of 8,000 tokens, about 4 s left`` (the estimate rounded
    up to whole seconds, left out when None)."""
    text = f"reading the prompt: {done:,} of {total:,} tokens"
    if seconds_left is not None:
        text += f", about {max(1, -int(-seconds_left // 1))} s left"
    return text
