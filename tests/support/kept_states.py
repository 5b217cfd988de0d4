"""Helpers for the kept-KV-state tests (issue 13): a turn in a fresh engine process, and the
ways a state file goes bad on disk."""

from __future__ import annotations

import json
import struct
from collections.abc import Sequence
from pathlib import Path

from inference.engine_process import EngineProcess
from inference.process.kv_state_file import encode, read_header
from inference.protocol import (
    ChatMessage,
    Done,
    EngineSettings,
    GenerateRequest,
    KeptStates,
    Loaded,
    LoadRequest,
    Warmed,
    WarmRequest,
)
from tests.support.engine_helpers import GREEDY, collect

# A history long enough that restoring it is worth keeping (kv_state.MIN_TOKENS).
HISTORY = " ".join(["the cat sat on the mat and it was good for all of us"] * 24)
FIRST = [ChatMessage("user", HISTORY)]  # the first turn of the conversation whose state is kept


def turns_in_fresh_engine(
    model: Path,
    conversations: Sequence[Sequence[ChatMessage]],
    kept: KeptStates | None,
    key: str = "chat:1",
    n_ctx: int = 1024,
) -> list[Done]:
    """Start an engine, load `model` keeping states in `kept`, send each conversation with
    `key` (greedy, 16 tokens), stop the engine (its states written) and return the Dones."""
    engine = EngineProcess()
    engine.start()
    try:
        load = LoadRequest(engine.next_id(), EngineSettings(str(model), n_ctx=n_ctx), kept)
        engine.send(load)
        assert isinstance(collect(engine, load.id)[-1], Loaded)
        dones = []
        for messages in conversations:
            request = GenerateRequest(engine.next_id(), tuple(messages), 16, GREEDY, state_key=key)
            engine.send(request)
            done = collect(engine, request.id)[-1]
            assert isinstance(done, Done), done
            dones.append(done)
        return dones
    finally:
        engine.stop(timeout=20)


def warm_then_turn(
    model: Path,
    shown: Sequence[ChatMessage],
    turn: Sequence[ChatMessage],
    kept: KeptStates | None,
    key: str = "chat:1",
    n_ctx: int = 1024,
    turn_key: str | None = None,
) -> tuple[Warmed, Done]:
    """In a fresh engine keeping states in `kept`: a WarmRequest for the conversation as
    `shown` (the chat was opened), then its next turn `turn` with the same `key` (greedy,
    16 tokens), as the window does (`turn_key`: another chat's turn instead). Returns the
    Warmed and the turn's Done."""
    engine = EngineProcess()
    engine.start()
    try:
        load = LoadRequest(engine.next_id(), EngineSettings(str(model), n_ctx=n_ctx), kept)
        engine.send(load)
        assert isinstance(collect(engine, load.id)[-1], Loaded)
        warm = WarmRequest(engine.next_id(), tuple(shown), key)
        engine.send(warm)
        warmed = collect(engine, warm.id)[-1]
        assert isinstance(warmed, Warmed), warmed
        state_key = key if turn_key is None else turn_key
        request = GenerateRequest(engine.next_id(), tuple(turn), 16, GREEDY, state_key=state_key)
        engine.send(request)
        done = collect(engine, request.id)[-1]
        assert isinstance(done, Done), done
        return warmed, done
    finally:
        engine.stop(timeout=20)


def the_state_file(folder: Path) -> Path:
    files = list(folder.glob("*.kvstate"))
    assert len(files) == 1, files
    return files[0]


def flip_payload_byte(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[-100] ^= 0x01
    path.write_bytes(bytes(data))


def truncate(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) - 1000])


def garble_header(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[20:40] = b"\xff" * 20  # inside the JSON header
    path.write_bytes(bytes(data))


def rewrite_identity(path: Path, **changes: object) -> None:
    """Write the state again, intact, as if made by another engine (`changes` to its
    identity, e.g. another llama-cpp-python version)."""
    header, tokens = read_header(path)
    data = path.read_bytes()
    payload = data[header.offset + 4 * len(tokens) :]
    identity = {**header.identity, **changes}
    chunks = encode(header.key, identity, tokens, payload, header.replies)  # type: ignore[arg-type]
    path.write_bytes(b"".join(bytes(c) for c in chunks))


def header_fields(path: Path) -> dict[str, object]:
    data = path.read_bytes()
    (length,) = struct.unpack_from("<I", data, 12)
    return dict(json.loads(data[16 : 16 + length]))


def keep_first_turn(model: Path, folder: Path) -> tuple[Path, str]:
    """FIRST answered in a fresh engine keeping its state in `folder`: (folder, the reply)."""
    (done,) = turns_in_fresh_engine(model, [FIRST], KeptStates(str(folder)))
    return folder, done.text
