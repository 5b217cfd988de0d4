"""Kept KV states across engine processes (issue 13, "Instant resume"), on the tiny model:
a conversation continued in a new process evaluates only what is new and replies as a full
prefill would; every stale or damaged state is skipped and the prompt read as usual."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from inference.protocol import ChatMessage, Done, KeptState, KeptStates
from tests.support.kept_states import (
    FIRST,
    flip_payload_byte,
    garble_header,
    keep_first_turn,
    rewrite_identity,
    the_state_file,
    truncate,
    turns_in_fresh_engine,
)
from tests.support.model_templates import CHATML_TEMPLATE
from tests.support.tiny_gguf import build_tiny_model


def _second(first_reply: str, question: str = "and the dog") -> list[ChatMessage]:
    return [*FIRST, ChatMessage("assistant", first_reply), ChatMessage("user", question)]


@pytest.fixture(scope="module")
def kept_turn(tiny_model: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A state kept after the first turn (the folder holding it) and that turn's reply."""
    return keep_first_turn(tiny_model, tmp_path_factory.mktemp("kept") / "kv")


@pytest.fixture(scope="module")
def full_prefill(tiny_model: Path, kept_turn: tuple[Path, str]) -> Done:
    """The second turn with the same prompt ids, read in full: the first turn, another chat
    that pushes it out of the cache, then the second turn in one process, keeping nothing."""
    _, reply = kept_turn
    other = [ChatMessage("user", "zebra " * 20)]
    dones = turns_in_fresh_engine(tiny_model, [FIRST, other, _second(reply)], None)
    assert dones[0].text == reply
    assert dones[2].trace is not None and dones[2].trace.tokens_reused <= 8
    return dones[2]


def _copy_state(kept_turn: tuple[Path, str], tmp_path: Path) -> Path:
    folder = tmp_path / "kv"
    shutil.copytree(kept_turn[0], folder)
    return folder


def test_resume_in_a_new_process_evaluates_only_the_new_turn(
    tiny_model: Path, kept_turn: tuple[Path, str], full_prefill: Done, tmp_path: Path
) -> None:
    folder = _copy_state(kept_turn, tmp_path)
    (done,) = turns_in_fresh_engine(tiny_model, [_second(kept_turn[1])], KeptStates(str(folder)))
    trace = done.trace
    assert trace is not None
    assert trace.kept_state == KeptState.RESTORED
    assert done.stats.prompt_tokens == full_prefill.stats.prompt_tokens
    assert trace.tokens_restored >= 400
    assert trace.tokens_evaluated == done.stats.prompt_tokens - trace.tokens_restored
    assert trace.tokens_evaluated <= 24  # "and the dog" and the turn's template text
    assert trace.cache_miss is None
    assert done.text == full_prefill.text
    assert the_state_file(folder).exists()  # kept again after this reply


Damage = Callable[[Path], None]


@pytest.mark.parametrize(
    ("damage", "expected"),
    [
        (flip_payload_byte, KeptState.DAMAGED),
        (truncate, KeptState.DAMAGED),
        (garble_header, KeptState.DAMAGED),
        (lambda p: rewrite_identity(p, llama_cpp_python="0.0.1"), KeptState.STALE),
        (lambda p: rewrite_identity(p, llama_cpp_system="AVX = 0 |"), KeptState.STALE),
    ],
    ids=["flipped-byte", "truncated", "garbage-header", "other-version", "other-build"],
)
def test_a_damaged_or_foreign_state_falls_back_to_prefill(
    tiny_model: Path,
    kept_turn: tuple[Path, str],
    full_prefill: Done,
    tmp_path: Path,
    damage: Damage,
    expected: str,
) -> None:
    folder = _copy_state(kept_turn, tmp_path)
    damage(the_state_file(folder))
    (done,) = turns_in_fresh_engine(tiny_model, [_second(kept_turn[1])], KeptStates(str(folder)))
    assert done.trace is not None
    assert done.trace.kept_state == expected
    assert done.trace.tokens_restored == 0
    assert done.text == full_prefill.text


def test_a_state_that_does_not_start_the_prompt_is_skipped(
    tiny_model: Path, kept_turn: tuple[Path, str], tmp_path: Path
) -> None:
    folder = _copy_state(kept_turn, tmp_path)
    edited = [ChatMessage("user", "a different first message " * 10)]
    kept, plain = (
        turns_in_fresh_engine(tiny_model, [edited], KeptStates(str(folder)))[0],
        turns_in_fresh_engine(tiny_model, [edited], None)[0],
    )
    assert kept.trace is not None
    assert kept.trace.kept_state == KeptState.NOT_PREFIX
    assert kept.text == plain.text


def test_another_model_file_under_the_same_name_is_not_trusted(
    kept_turn: tuple[Path, str], full_prefill: Done, tmp_path: Path, tiny_model: Path
) -> None:
    # The state names the model by its path: put "another" model at a copy's path.
    model = tmp_path / "model.gguf"
    shutil.copy(tiny_model, model)
    folder = tmp_path / "kv"
    reply = kept_turn[1]
    turns_in_fresh_engine(model, [FIRST], KeptStates(str(folder)))
    build_tiny_model(model, seed=7, chat_template=CHATML_TEMPLATE)
    (replaced,) = turns_in_fresh_engine(model, [_second(reply)], KeptStates(str(folder)))
    (plain,) = turns_in_fresh_engine(model, [_second(reply)], None)
    assert replaced.trace is not None
    assert replaced.trace.kept_state == KeptState.STALE
    assert replaced.text == plain.text


def test_another_context_size_is_not_trusted(
    tiny_model: Path, kept_turn: tuple[Path, str], tmp_path: Path
) -> None:
    folder = _copy_state(kept_turn, tmp_path)
    second = _second(kept_turn[1])
    (done,) = turns_in_fresh_engine(tiny_model, [second], KeptStates(str(folder)), n_ctx=768)
    assert done.trace is not None
    assert done.trace.kept_state == KeptState.STALE
    assert done.trace.tokens_restored == 0


def test_an_unwritable_folder_leaves_the_reply_unaffected(
    tiny_model: Path, kept_turn: tuple[Path, str], full_prefill: Done, tmp_path: Path
) -> None:
    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder")
    dones = turns_in_fresh_engine(tiny_model, [FIRST], KeptStates(str(blocked)))
    assert dones[0].text == kept_turn[1]
    assert blocked.read_text() == "not a folder"
