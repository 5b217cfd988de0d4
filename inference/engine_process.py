"""Starts and supervises the engine process; plain Python so the CLI and the Qt client share it.

The model runs in its own OS process because llama.cpp aborts the whole process on many
errors (GGML_ASSERT, GPU out of memory, malformed files): the caller survives, learns how
the engine died, and can start a fresh one.
"""

from __future__ import annotations

import itertools
import multiprocessing
import signal
import threading
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess

from inference.process.engine_main import main as engine_main
from inference.protocol import Event, Request, ShutdownRequest


class EngineCrashedError(RuntimeError):
    """The engine process ended without being asked to."""

    def __init__(self, exitcode: int | None) -> None:
        self.exitcode = exitcode
        super().__init__(describe_exit(exitcode))


def describe_exit(exitcode: int | None) -> str:
    """How the engine died, in plain words."""
    if exitcode is None:
        return "The engine stopped responding."
    if exitcode < 0:
        try:
            name = signal.Signals(-exitcode).name
        except ValueError:
            name = f"signal {-exitcode}"
        if name == "SIGKILL":
            return (
                "The engine was killed (SIGKILL) — often the system running out of memory, "
                "or another program ending it."
            )
        if name == "SIGABRT":
            return (
                "The engine crashed (SIGABRT): llama.cpp hit an internal error, often an "
                "unsupported or damaged model, or the GPU running out of memory."
            )
        if name == "SIGSEGV":
            return "The engine crashed (SIGSEGV, a memory fault inside llama.cpp)."
        return f"The engine was stopped by {name}."
    return f"The engine exited unexpectedly (exit code {exitcode})."


class EngineProcess:
    """One engine process and the pipe to it. Not thread-safe: one thread sends; one
    thread (possibly another) receives."""

    def __init__(self) -> None:
        self._ctx = multiprocessing.get_context("spawn")
        self._process: BaseProcess | None = None
        self._conn: Connection | None = None
        self._ids = itertools.count(1)
        self._stopping = False
        self._send_lock = threading.Lock()

    def next_id(self) -> int:
        return next(self._ids)

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.is_alive()

    @property
    def stopping(self) -> bool:
        return self._stopping

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def start(self) -> None:
        if self.running:
            return
        self.close()
        parent, child = self._ctx.Pipe(duplex=True)
        process = self._ctx.Process(
            target=engine_main, args=(child,), name="hearth-engine", daemon=True
        )
        process.start()
        child.close()  # so EOF reaches us when the engine dies
        self._process, self._conn, self._stopping = process, parent, False

    def send(self, request: Request) -> None:
        """Thread-safe: a cancel may be sent from another thread while a request is sent."""
        if self._conn is None or not self.running:
            raise EngineCrashedError(self.exitcode)
        try:
            with self._send_lock:
                self._conn.send(request)
        except (BrokenPipeError, OSError) as exc:
            raise EngineCrashedError(self.exitcode) from exc

    def recv(self, timeout: float | None = None) -> Event | None:
        """Next event, or None after `timeout` seconds. Raises EngineCrashedError when the
        engine is gone (and did not exit because we asked it to)."""
        conn = self._conn
        if conn is None:
            raise EngineCrashedError(self.exitcode)
        try:
            if timeout is not None and not conn.poll(timeout):
                return None
            return conn.recv()
        except (EOFError, OSError) as exc:
            if self._process is not None:
                self._process.join(timeout=2)
            raise EngineCrashedError(self.exitcode) from exc

    @property
    def exitcode(self) -> int | None:
        return self._process.exitcode if self._process is not None else None

    def stop(self, timeout: float = 5.0) -> None:
        """Ask the engine to finish, then make sure it is gone."""
        self._stopping = True
        if self._conn is not None and self.running:
            try:
                with self._send_lock:
                    self._conn.send(ShutdownRequest(self.next_id()))
            except (BrokenPipeError, OSError):
                pass
        if self._process is not None:
            self._process.join(timeout)
            if self._process.is_alive():
                self._process.kill()
                self._process.join(timeout)
        self.close()

    def kill(self) -> None:
        if self._process is not None and self._process.is_alive():
            self._process.kill()
            self._process.join(5)

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None
        if self._process is not None and not self._process.is_alive():
            self._process.close()
            self._process = None
