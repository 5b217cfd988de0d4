"""The engine's background writer of kept KV states (issue 13).

The main thread hands over a state it copied out of llama.cpp; this thread hashes it,
writes it (inference/state_files.StateFiles.write: a temporary file renamed into place)
and evicts the least recently used states over the budget. A request that arrives
meanwhile never waits for the disk: the main thread only queues. Only the newest state of
each file waits: a newer one replaces one not written yet.

The thread runs at the lowest CPU priority where the OS allows a thread its own (Linux), so
hashing and writing take what llama.cpp's threads leave of the cores rather than slowing a
prefill that started meanwhile.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from inference.process.kv_state_file import Identity, Reply, encode
from inference.state_files import Chunk, StateFiles

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class WriteJob:
    files: StateFiles  # the folder and budget of the model that made it
    path: Path
    key: str
    identity: Identity
    tokens: Sequence[int]
    payload: Chunk
    replies: Sequence[Reply] = ()


class StateWriter:
    def __init__(self, on_done: Callable[[WriteJob, bool], None] | None = None) -> None:
        """One per engine process, across model loads. `on_done(job, written)`: called on
        the writer thread after each job (tests)."""
        self._on_done = on_done
        self._jobs: dict[Path, WriteJob] = {}
        self._busy = False
        self._closing = False
        self._wake = threading.Condition()
        self._thread: threading.Thread | None = None

    def submit(self, job: WriteJob) -> None:
        """Queue a state (main thread); returns at once."""
        with self._wake:
            if self._closing:
                return
            self._jobs.pop(job.path, None)  # a newer state of the same file goes last
            self._jobs[job.path] = job
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="kv-state-writer", daemon=True
                )
                self._thread.start()
            self._wake.notify()

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Until every queued state is written (or given up): True, else False at timeout."""
        with self._wake:
            return self._wake.wait_for(lambda: not self._jobs and not self._busy, timeout)

    def close(self, timeout: float = 4.0) -> None:
        """Write what is queued (within `timeout` seconds), then stop the thread. The engine
        closes it before it exits, so a CLI turn's state is on disk for the next process."""
        self.wait_idle(timeout)
        with self._wake:
            self._closing = True
            self._jobs.clear()
            self._wake.notify_all()
            thread = self._thread
        if thread is not None:
            thread.join(timeout)

    def _run(self) -> None:
        _lower_priority()
        while True:
            with self._wake:
                self._wake.wait_for(lambda: self._jobs or self._closing)
                if self._closing:
                    return
                path = next(iter(self._jobs))
                job = self._jobs.pop(path)
                self._busy = True
            written = self._write(job)
            if self._on_done is not None:
                self._on_done(job, written)
            with self._wake:
                self._busy = False
                self._wake.notify_all()

    def _write(self, job: WriteJob) -> bool:
        try:
            job.files.write(
                job.path, encode(job.key, job.identity, job.tokens, job.payload, job.replies)
            )
        except OSError as exc:
            # A full disk, a folder gone read-only: the reply is unaffected, the state lost.
            log.warning("KV state of %s not kept (%s tokens): %s", job.key, len(job.tokens), exc)
            return False
        job.files.evict()
        return True


def _lower_priority() -> None:
    """Nice 19 for this thread alone (Linux: a thread id is a process id to setpriority)."""
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 19)
    except (AttributeError, OSError):
        pass
