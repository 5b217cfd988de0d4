"""A kept-state budget changed while the engine runs (issue 13): the engine process applies it
at once (protocol.SetStateBudget), evicting least recently used states down to it, and keeps
within it when it saves the next state."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from inference.engine_process import EngineProcess
from inference.protocol import (
    ChatMessage,
    Done,
    EngineSettings,
    GenerateRequest,
    KeptStates,
    Loaded,
    LoadRequest,
    SetStateBudget,
    StateBudgetSet,
)
from tests.support.engine_helpers import GREEDY, collect
from tests.support.kept_state_seeds import seed_state
from tests.support.kept_states import HISTORY

MIB = 1 << 20


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    return tmp_path / "kv_states"


@pytest.fixture
def engine(tiny_model: Path, folder: Path) -> Iterator[EngineProcess]:
    process = EngineProcess()
    process.start()
    settings = EngineSettings(str(tiny_model), n_ctx=1024, n_threads=1, n_threads_batch=1)
    request = LoadRequest(process.next_id(), settings, KeptStates(str(folder), 4 << 30))
    process.send(request)
    assert isinstance(collect(process, request.id)[-1], Loaded)
    yield process
    process.stop(timeout=20)


def _set_budget(engine: EngineProcess, budget: int) -> StateBudgetSet:
    request = SetStateBudget(engine.next_id(), budget)
    engine.send(request)
    while True:
        event = engine.recv(60)
        assert event is not None, "the engine did not answer SetStateBudget"
        if getattr(event, "id", None) == request.id:
            assert isinstance(event, StateBudgetSet), event
            return event


def _turn(engine: EngineProcess, key: str) -> None:
    messages = (ChatMessage("user", HISTORY),)
    request = GenerateRequest(engine.next_id(), messages, 8, GREEDY, state_key=key)
    engine.send(request)
    assert isinstance(collect(engine, request.id)[-1], Done)


def _states(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.kvstate"))


def test_a_lower_budget_evicts_at_once_least_recently_used_first(
    engine: EngineProcess, folder: Path
) -> None:
    now = time.time()
    oldest, older, newest = (
        seed_state(folder, f"chat:{i}", 300 * MIB, used_at=now - 3600 * (3 - i)) for i in range(3)
    )
    answer = _set_budget(engine, 700 * MIB)
    assert (answer.budget_bytes, answer.removed) == (700 * MIB, 1)
    assert not oldest.exists() and older.exists() and newest.exists()
    assert _set_budget(engine, 300 * MIB).removed == 1
    assert _states(folder) == [newest]


def test_states_saved_after_a_new_budget_keep_within_it(
    engine: EngineProcess, folder: Path
) -> None:
    _turn(engine, "chat:1")
    deadline = time.monotonic() + 30
    while not _states(folder):  # written on the engine's writer thread, after the reply
        assert time.monotonic() < deadline, "the first state was never written"
        time.sleep(0.05)
    (first,) = _states(folder)
    # Room for no state: the one kept goes now, and the next reply's is not written.
    answer = _set_budget(engine, first.stat().st_size - 1)
    assert answer.removed == 1 and not first.exists()
    _turn(engine, "chat:2")
    engine.stop(timeout=20)  # every state it meant to keep is written before it exits
    assert _states(folder) == []


def test_an_absurd_budget_is_made_sensible_and_no_model_answers_too(
    tiny_model: Path, folder: Path
) -> None:
    process = EngineProcess()
    process.start()
    try:
        assert _set_budget(process, 1 << 30) == StateBudgetSet(1, 0, 0)  # nothing loaded
        settings = EngineSettings(str(tiny_model), n_ctx=512)
        load = LoadRequest(process.next_id(), settings, KeptStates(str(folder), 1 << 30))
        process.send(load)
        assert isinstance(collect(process, load.id)[-1], Loaded)
        assert _set_budget(process, -5).budget_bytes == 0  # negative: keep nothing
    finally:
        process.stop(timeout=20)
