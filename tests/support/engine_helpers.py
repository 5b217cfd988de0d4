"""Drive an EngineProcess synchronously in tests."""

from __future__ import annotations

import time
from pathlib import Path

import psutil

from inference.client import EngineClient
from inference.engine_process import EngineProcess
from inference.protocol import (
    ChatMessage,
    Delta,
    Done,
    EngineSettings,
    Error,
    Event,
    GenerateRequest,
    Loaded,
    LoadRequest,
    ModelInfo,
    PrefillProgress,
    Sampling,
    Warmed,
)

GREEDY = Sampling(temperature=0.0, top_k=1, seed=1)


def collect(engine: EngineProcess, request_id: int, timeout: float = 60) -> list[Event]:
    """Events for one request until it ends (Done, Loaded, Error or Warmed)."""
    events: list[Event] = []
    while True:
        event = engine.recv(timeout)
        assert event is not None, f"no event within {timeout}s; got so far {events[-3:]}"
        if getattr(event, "id", None) != request_id:
            continue
        events.append(event)
        if isinstance(event, Done | Loaded | Error | Warmed):
            return events


def load(engine: EngineProcess, model: Path, **settings: object) -> ModelInfo | Error:
    request = LoadRequest(engine.next_id(), EngineSettings(model_path=str(model), **settings))
    engine.send(request)
    last = collect(engine, request.id)[-1]
    if isinstance(last, Loaded):
        return last.info
    assert isinstance(last, Error)
    return last


def chat(
    engine: EngineProcess,
    messages: list[ChatMessage],
    max_tokens: int = 16,
    sampling: Sampling = GREEDY,
) -> tuple[list[Event], Done | Error]:
    request = GenerateRequest(
        engine.next_id(), tuple(messages), max_tokens=max_tokens, sampling=sampling
    )
    engine.send(request)
    events = collect(engine, request.id)
    last = events[-1]
    assert isinstance(last, Done | Error)
    return events, last


def delta_text(events: list[Event]) -> str:
    return "".join(e.text for e in events if isinstance(e, Delta))


def run_until(engine: EngineProcess, ends: set[int], on_event: object = None) -> list[Event]:
    """Every event until each request in `ends` has ended (Done, Loaded, Error or Warmed)."""
    events: list[Event] = []
    left = set(ends)
    while left:
        event = engine.recv(60)
        assert event is not None, f"no event within 60 s; last {events[-3:]}"
        events.append(event)
        if callable(on_event):
            on_event(event)
        if isinstance(event, Done | Loaded | Error | Warmed):
            left.discard(event.id)
    return events


def names(events: list[Event], *ids: int) -> list[str]:
    """The events of `ids` other than deltas and prefill steps, as 'Kind:id'."""
    return [
        f"{type(e).__name__}:{e.id}"
        for e in events
        if not isinstance(e, Delta | PrefillProgress) and getattr(e, "id", None) in ids
    ]


def kill_engine(client: EngineClient, timeout: float = 10) -> None:
    """Kill the client's engine process from outside, as the OS would (SIGKILL on POSIX,
    TerminateProcess on Windows), and return once it has died. The client is left to notice
    the crash itself; the dead process is not reaped here, so the client still reads its
    exit code."""
    pid = client.pid
    assert pid is not None, "the engine is not running"
    process = psutil.Process(pid)
    process.kill()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if process.status() == psutil.STATUS_ZOMBIE:
                return
        except psutil.NoSuchProcess:
            return  # already reaped by the client
        time.sleep(0.01)
    raise AssertionError(f"engine process {pid} still alive {timeout}s after SIGKILL")
