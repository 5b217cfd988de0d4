"""Turns generated token bytes into text deltas, with stop strings, in constant time per token.

llama-cpp-python's high-level API re-detokenizes the whole reply on every token (quadratic)
and can stall on byte tokens that are not yet valid UTF-8; this decodes incrementally and
checks stop strings only on the tail that could still contain one.
"""

from __future__ import annotations

import codecs
from collections.abc import Sequence


class TextAssembler:
    """Feed token pieces, get back text that is safe to show (never part of a stop string)."""

    def __init__(self, stops: Sequence[str] = ()) -> None:
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._stops = tuple(s for s in stops if s)
        self._max_stop = max((len(s) for s in self._stops), default=0)
        self._held = ""  # decoded text not yet emitted because it may start a stop string
        self._parts: list[str] = []
        self.stopped = False

    @property
    def text(self) -> str:
        """Everything emitted so far."""
        if len(self._parts) > 1:
            self._parts = ["".join(self._parts)]
        return self._parts[0] if self._parts else ""

    def feed(self, piece: bytes) -> str:
        """Add one token's bytes; return the newly showable text ('' if none)."""
        if self.stopped:
            return ""
        window = self._held + self._decoder.decode(piece)
        if not self._stops:
            self._held = ""
            return self._emit(window)
        cut = _first_stop(window, self._stops)
        if cut is not None:
            self.stopped = True
            self._held = ""
            return self._emit(window[:cut])
        keep = _partial_stop_suffix(window, self._stops, self._max_stop)
        self._held = window[len(window) - keep :] if keep else ""
        return self._emit(window[: len(window) - keep])

    def finish(self) -> str:
        """End of generation: release held text and any incomplete UTF-8 as U+FFFD."""
        if self.stopped:
            return ""
        rest = self._held + self._decoder.decode(b"", final=True)
        self._held = ""
        return self._emit(rest)

    def _emit(self, text: str) -> str:
        if text:
            self._parts.append(text)
        return text


def _first_stop(window: str, stops: Sequence[str]) -> int | None:
    hits = [i for i in (window.find(s) for s in stops) if i >= 0]
    return min(hits) if hits else None


def _partial_stop_suffix(window: str, stops: Sequence[str], max_stop: int) -> int:
    """Length of the longest tail of `window` that is a proper prefix of some stop string."""
    for length in range(min(len(window), max_stop - 1), 0, -1):
        tail = window[-length:]
        if any(s.startswith(tail) for s in stops):
            return length
    return 0
