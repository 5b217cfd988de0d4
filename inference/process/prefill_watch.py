"""Progress reports and Stop inside one prefill step (issue 12), through llama.cpp's abort
callback.

Why: the prompt is evaluated in steps of n_batch tokens, one llama_decode each, the fastest
way llama.cpp reads a prompt. One step of a large model on a CPU takes seconds, yet the user
wants "reading the prompt: 3,200 of 8,000 tokens" at least twice a second and a Stop that
works at once. Smaller steps would buy both with throughput (bench/prefill_progress.py, 2-core
test machine, Gemma 3 270M: ~193-token steps 0.955x one uninterrupted prefill, 64-token steps
~0.84x). Instead: llama.cpp's CPU backend calls the context's abort callback after every node
of the compute graph, on the thread that called llama_decode, and the graph of one step has
the same nodes whatever the step's size (counted: 456 for Gemma 3 270M, from 1 to 512
tokens). Counting the calls gives the share of the step computed; returning true aborts the
step, and llama.cpp then drops that step's tokens from the KV cache and keeps every step
before it (llama_decode returns 2).

Progress, its one definition: prompt tokens in the KV cache, plus the step in progress counted
by the share of its graph nodes computed (half the nodes: half its tokens). The layers repeat,
so nodes are a fair measure of the work done.

The node count is learned per loaded model from its first step, which is kept short
(FIRST_STEP tokens) so it is learned within a fraction of a second; every later step is a full
n_batch. A GPU backend computes its part of the graph without calling back per node: there a
full step takes milliseconds, and progress and Stop come between steps as before.
"""

from __future__ import annotations

import time
import weakref
from collections.abc import Callable

REPORT_INTERVAL_S = 0.25  # twice a second wanted: half of that leaves room for a slow node
STOP_CHECK_S = 0.05  # how often the engine's queue is asked about a cancel or a chat turn
FIRST_STEP = 64

# Nodes per step of each loaded model (forgotten with it).
_NODES: weakref.WeakKeyDictionary[object, int] = weakref.WeakKeyDictionary()


class PrefillWatch:
    """One prompt's evaluation: the steps' sizes, reports inside a step, and the stop.

    `report(tokens)`: progress inside a step (the definition above); `stop()`: asked every
    STOP_CHECK_S while a step computes, True aborts it. Both run on the engine's main thread,
    inside llama_decode."""

    def __init__(
        self,
        model: object,
        report: Callable[[int], None],
        stop: Callable[[], bool],
        *,
        report_s: float = REPORT_INTERVAL_S,
        check_s: float = STOP_CHECK_S,
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        self._model = model
        self._report = report
        self._stop = stop
        self._report_s = report_s
        self._check_s = check_s
        self._clock = clock
        self.stopped = False
        self._done = 0
        self._size = 0
        self._nodes = 0
        self._per_step = 0
        self._last_report = clock()
        self._last_check = self._last_report

    def next_step(self, n_batch: int) -> int:
        if self._model in _NODES:
            return n_batch
        return min(n_batch, FIRST_STEP)

    def begin(self, done: int, size: int) -> None:
        """A step of `size` tokens starts with `done` prompt tokens in the cache."""
        self._done, self._size, self._nodes = done, size, 0
        self._per_step = _NODES.get(self._model, 0)

    def end(self) -> None:
        """The step finished: its node count is the model's."""
        if self._nodes and not self.stopped:
            _NODES.setdefault(self._model, self._nodes)
        self._last_report = self._clock()

    def tick(self) -> bool:
        """One graph node computed. True: abort the step."""
        self._nodes += 1
        now = self._clock()
        if now - self._last_check >= self._check_s:
            self._last_check = now
            if self._stop():
                self.stopped = True
                return True
        if now - self._last_report >= self._report_s and self._per_step:
            share = min(1.0, self._nodes / self._per_step)
            self._last_report = now
            self._report(self._done + min(self._size - 1, int(self._size * share)))
        return False
