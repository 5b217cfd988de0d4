"""The engine's waiting line: most urgent first (lower priority value), then by arrival.

Unlike queue.PriorityQueue it lets the generating thread look at the head without taking
it, which is how a background generation notices, between two tokens, that a chat turn is
waiting. Thread-safe: the reader thread puts, the engine's main thread gets and peeks.
"""

from __future__ import annotations

import heapq
import itertools
import threading
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class RequestQueue(Generic[T]):
    def __init__(self) -> None:
        self._heap: list[tuple[int, int, T]] = []
        self._arrivals = itertools.count()
        self._ready = threading.Condition()

    def put(self, priority: int, item: T, arrival: int | None = None) -> int:
        """Queue `item`; returns its arrival number. Passing a previous `arrival` back puts
        a paused item where it was, ahead of work of its priority that came later."""
        with self._ready:
            number = next(self._arrivals) if arrival is None else arrival
            heapq.heappush(self._heap, (priority, number, item))
            self._ready.notify()
            return number

    def get(self) -> tuple[int, int, T]:
        """(priority, arrival, item) of the most urgent item; blocks until there is one."""
        with self._ready:
            while not self._heap:
                self._ready.wait()
            return heapq.heappop(self._heap)

    def head(self) -> tuple[int, T] | None:
        """(priority, item) of what `get` would return next, without taking it."""
        with self._ready:
            if not self._heap:
                return None
            priority, _, item = self._heap[0]
            return priority, item

    def remove(self, item: T) -> bool:
        """Take `item` out of the line (a paused generation cancelled while it waits)."""
        with self._ready:
            for index, entry in enumerate(self._heap):
                if entry[2] is item:
                    self._heap.pop(index)
                    heapq.heapify(self._heap)
                    return True
            return False

    def holds(self, wanted: Callable[[T], bool]) -> bool:
        """Whether an item waiting in the line is `wanted` (a newer warm supersedes one)."""
        with self._ready:
            return any(wanted(entry[2]) for entry in self._heap)
