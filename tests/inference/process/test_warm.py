"""Warming an opened conversation (issue 13, protocol.WarmRequest), on the tiny model in real
engine processes: the kept state is restored before the turn, so the turn evaluates only its
new tokens and replies as a full prefill would; a warm with nothing (or something stale) to
restore is harmless; a warm never touches a paused generation's cache."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from inference.engine_process import EngineProcess
from inference.protocol import (
    WARM_BUSY,
    WARM_SUPERSEDED,
    ChatMessage,
    CompletionRequest,
    Delta,
    Done,
    EngineSettings,
    GenerateRequest,
    KeptState,
    KeptStates,
    LoadRequest,
    MissCode,
    Priority,
    Warmed,
    WarmRequest,
)
from tests.support.engine_helpers import GREEDY, collect, run_until
from tests.support.kept_states import (
    FIRST,
    keep_first_turn,
    rewrite_identity,
    the_state_file,
    turns_in_fresh_engine,
    warm_then_turn,
)


def _shown(first_reply: str) -> list[ChatMessage]:
    return [*FIRST, ChatMessage("assistant", first_reply)]


def _second(first_reply: str) -> list[ChatMessage]:
    return [*_shown(first_reply), ChatMessage("user", "and the dog")]


@pytest.fixture(scope="module")
def kept_turn(tiny_model: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A state kept after the first turn (the folder holding it) and that turn's reply."""
    return keep_first_turn(tiny_model, tmp_path_factory.mktemp("kept") / "kv")


@pytest.fixture(scope="module")
def cold(tiny_model: Path, kept_turn: tuple[Path, str]) -> Done:
    """The second turn in a fresh process without any warm (restored on its own path)."""
    folder, reply = kept_turn
    copy = folder.parent / "cold"
    shutil.copytree(folder, copy)
    (done,) = turns_in_fresh_engine(tiny_model, [_second(reply)], KeptStates(str(copy)))
    assert done.trace is not None and done.trace.kept_state == KeptState.RESTORED
    return done


def _copy(kept_turn: tuple[Path, str], tmp_path: Path) -> Path:
    folder = tmp_path / "kv"
    shutil.copytree(kept_turn[0], folder)
    return folder


def test_a_warm_restores_ahead_and_the_turn_reads_only_its_new_tokens(
    tiny_model: Path, kept_turn: tuple[Path, str], cold: Done, tmp_path: Path
) -> None:
    folder = _copy(kept_turn, tmp_path)
    reply = kept_turn[1]
    warmed, done = warm_then_turn(
        tiny_model, _shown(reply), _second(reply), KeptStates(str(folder))
    )
    assert warmed.kept_state == KeptState.RESTORED
    assert warmed.tokens_restored >= 400 and warmed.restore_ms > 0
    trace = done.trace
    assert trace is not None
    assert trace.kept_state == KeptState.RESTORED_AHEAD
    assert (trace.tokens_restored, trace.restore_ms) == (warmed.tokens_restored, warmed.restore_ms)
    assert trace.tokens_evaluated == done.stats.prompt_tokens - warmed.tokens_restored
    assert trace.tokens_evaluated == cold.trace.tokens_evaluated  # type: ignore[union-attr]
    assert trace.tokens_evaluated <= 24
    assert trace.cache_miss is None
    assert done.text == cold.text  # greedy: the same reply as without the warm
    assert the_state_file(folder).exists()


def test_a_warm_with_no_state_is_a_no_op(
    tiny_model: Path, kept_turn: tuple[Path, str], cold: Done, tmp_path: Path
) -> None:
    reply = kept_turn[1]
    folder = tmp_path / "empty"
    warmed, done = warm_then_turn(
        tiny_model, _shown(reply), _second(reply), KeptStates(str(folder))
    )
    assert warmed == Warmed(warmed.id, KeptState.NONE)
    assert done.trace is not None and done.trace.kept_state == KeptState.NONE
    assert done.text == cold.text
    # Keeping no states at all: the same.
    warmed, done = warm_then_turn(tiny_model, _shown(reply), _second(reply), None)
    assert warmed.kept_state == KeptState.NONE and done.text == cold.text


def test_a_warm_with_a_stale_state_drops_it_and_the_turn_prefills(
    tiny_model: Path, kept_turn: tuple[Path, str], cold: Done, tmp_path: Path
) -> None:
    folder = _copy(kept_turn, tmp_path)
    rewrite_identity(the_state_file(folder), llama_cpp_python="0.0.1")
    reply = kept_turn[1]
    warmed, done = warm_then_turn(
        tiny_model, _shown(reply), _second(reply), KeptStates(str(folder))
    )
    assert warmed.kept_state == KeptState.STALE and warmed.tokens_restored == 0
    assert done.trace is not None and done.trace.tokens_restored == 0
    assert done.trace.kept_state != KeptState.RESTORED_AHEAD
    assert done.stats.prompt_tokens_evaluated == done.stats.prompt_tokens
    assert done.text == cold.text


def test_a_warm_of_another_branch_leaves_the_state_for_the_turn(
    tiny_model: Path, kept_turn: tuple[Path, str], cold: Done, tmp_path: Path
) -> None:
    """A shown branch the state does not start (edited history): the warm loads nothing and
    deletes nothing; the real turn still finds the state."""
    folder = _copy(kept_turn, tmp_path)
    reply = kept_turn[1]
    other = [ChatMessage("user", "zebra " * 20), ChatMessage("assistant", reply)]
    warmed, done = warm_then_turn(tiny_model, other, _second(reply), KeptStates(str(folder)))
    assert warmed.kept_state == KeptState.NOT_PREFIX
    assert done.trace is not None and done.trace.kept_state == KeptState.RESTORED
    assert done.text == cold.text


def test_a_warm_never_touches_a_paused_generation_and_the_newest_warm_wins(
    tiny_model: Path, kept_turn: tuple[Path, str], tmp_path: Path
) -> None:
    folder = _copy(kept_turn, tmp_path)
    reply = kept_turn[1]
    background = CompletionRequest(0, "Once upon a time", 600, GREEDY, ignore_eos=True)
    alone = _run_alone(tiny_model, background)

    engine = EngineProcess()
    engine.start()
    try:
        load = LoadRequest(
            engine.next_id(), EngineSettings(str(tiny_model), n_ctx=1024), KeptStates(str(folder))
        )
        engine.send(load)
        collect(engine, load.id)
        job = CompletionRequest(engine.next_id(), background.prompt, 600, GREEDY, ignore_eos=True)
        engine.send(job)
        while not isinstance(engine.recv(60), Delta):
            pass  # it runs
        # A chat turn pauses it; a warm (as urgent, so it runs while the job is paused) must
        # skip; two background warms wait behind the job: the older is superseded.
        chat = GenerateRequest(engine.next_id(), (ChatMessage("user", "hi"),), 4, GREEDY)
        busy = WarmRequest(engine.next_id(), tuple(_shown(reply)), "chat:1", Priority.INTERACTIVE)
        older = WarmRequest(engine.next_id(), tuple(_shown(reply)), "chat:1")
        newer = WarmRequest(engine.next_id(), tuple(_shown(reply)), "chat:1")
        for request in (chat, busy, older, newer):
            engine.send(request)
        events = run_until(engine, {job.id, chat.id, busy.id, older.id, newer.id})
    finally:
        engine.stop(timeout=20)
    warmed = {e.id: e for e in events if isinstance(e, Warmed)}
    assert warmed[busy.id].kept_state == WARM_BUSY
    assert warmed[older.id].kept_state == WARM_SUPERSEDED
    assert warmed[newer.id].kept_state == KeptState.RESTORED
    (done,) = [e for e in events if isinstance(e, Done) and e.id == job.id]
    assert done.text == alone.text  # the paused job continued as if alone


def _run_alone(model: Path, request: CompletionRequest) -> Done:
    engine = EngineProcess()
    engine.start()
    try:
        load = LoadRequest(engine.next_id(), EngineSettings(str(model), n_ctx=1024))
        engine.send(load)
        collect(engine, load.id)
        request = CompletionRequest(
            engine.next_id(), request.prompt, request.max_tokens, GREEDY, ignore_eos=True
        )
        engine.send(request)
        done = collect(engine, request.id)[-1]
        assert isinstance(done, Done)
        return done
    finally:
        engine.stop(timeout=20)


def test_a_chat_after_another_chat_s_warm_names_the_warm_as_the_cache_miss(
    tiny_model: Path, kept_turn: tuple[Path, str], tmp_path: Path
) -> None:
    folder = _copy(kept_turn, tmp_path)
    other = [ChatMessage("user", "zebra " * 20)]
    warmed, done = warm_then_turn(
        tiny_model, _shown(kept_turn[1]), other, KeptStates(str(folder)), turn_key="chat:2"
    )
    assert warmed.kept_state == KeptState.RESTORED
    miss = done.trace.cache_miss if done.trace is not None else None
    assert miss is not None and miss.code == MissCode.OTHER_REQUEST
    assert (miss.other_id, miss.other_kind) == (warmed.id, "warm")
