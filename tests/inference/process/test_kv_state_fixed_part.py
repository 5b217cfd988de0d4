"""Kept KV states of a prompt's fixed part (issue 13: summary and translation instructions
warm across jobs), on the tiny model in real engine processes: after two requests of a
fixed-part key the kept state is the part their prompts share; a later process restores it
and evaluates only the rest, replying as a full prefill does; other instructions restore
nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from inference.process.kv_state_file import read_header
from inference.protocol import ChatMessage, Done, KeptState, KeptStates
from inference.state_files import fixed_part_key
from tests.support.kept_states import HISTORY, the_state_file, turns_in_fresh_engine

INSTRUCTIONS = "Summarize this part faithfully, keeping names and numbers. " + HISTORY
KEY = fixed_part_key("summary", INSTRUCTIONS)


def _job(chunk: str, instructions: str = INSTRUCTIONS) -> list[ChatMessage]:
    return [ChatMessage("system", instructions), ChatMessage("user", f"<text>{chunk}</text>")]


CHUNKS = ("the dog ran far away", "a bird sang in the tree", "zebra zebra on the hill")


@pytest.fixture(scope="module")
def kept_fixed_part(tiny_model: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The folder after two jobs of KEY in one process."""
    folder = tmp_path_factory.mktemp("fixed") / "kv"
    turns_in_fresh_engine(
        tiny_model, [_job(CHUNKS[0]), _job(CHUNKS[1])], KeptStates(str(folder)), KEY
    )
    return folder


@pytest.fixture(scope="module")
def full_prefill(tiny_model: Path) -> Done:
    (done,) = turns_in_fresh_engine(tiny_model, [_job(CHUNKS[2])], None, KEY)
    return done


def test_two_jobs_leave_only_the_shared_part_kept(kept_fixed_part: Path) -> None:
    header, tokens = read_header(the_state_file(kept_fixed_part))
    assert header.key == KEY
    assert header.replies == ()  # no reply belongs to a fixed part
    assert len(tokens) >= 100  # the instructions (HISTORY alone is some 300 tokens)


def test_a_later_job_restores_the_fixed_part_and_reads_only_its_chunk(
    tiny_model: Path, kept_fixed_part: Path, full_prefill: Done
) -> None:
    _, kept = read_header(the_state_file(kept_fixed_part))
    (done,) = turns_in_fresh_engine(
        tiny_model, [_job(CHUNKS[2])], KeptStates(str(kept_fixed_part)), KEY
    )
    trace = done.trace
    assert trace is not None
    assert trace.kept_state == KeptState.RESTORED
    assert trace.tokens_restored == len(kept)
    assert trace.tokens_evaluated == done.stats.prompt_tokens - len(kept)
    assert trace.tokens_evaluated <= 48  # the chunk (byte pieces on this model), template
    assert done.text == full_prefill.text
    _, after = read_header(the_state_file(kept_fixed_part))
    assert after == kept  # nothing new to keep: the same fixed part stays


def test_other_instructions_restore_nothing(
    tiny_model: Path, kept_fixed_part: Path, tmp_path: Path
) -> None:
    other = "Translate this part into French, word for word. " + HISTORY
    (done,) = turns_in_fresh_engine(
        tiny_model,
        [_job(CHUNKS[2], other)],
        KeptStates(str(kept_fixed_part)),
        fixed_part_key("summary", other),
    )
    assert done.trace is not None
    assert done.trace.tokens_restored == 0
    assert done.trace.kept_state in ("", KeptState.NONE)


def test_the_first_job_of_a_new_process_keeps_the_whole_prompt_until_a_second(
    tiny_model: Path, tmp_path: Path
) -> None:
    """After one job the state is its whole prompt and reply: a new process's job finds it
    not starting its prompt, leaves it on disk, and cuts it down after its reply."""
    folder = tmp_path / "kv"
    kept = KeptStates(str(folder))
    (first,) = turns_in_fresh_engine(tiny_model, [_job(CHUNKS[0])], kept, KEY)
    _, whole = read_header(the_state_file(folder))
    (second,) = turns_in_fresh_engine(tiny_model, [_job(CHUNKS[1])], kept, KEY)
    assert second.trace is not None and second.trace.kept_state == KeptState.NOT_PREFIX
    _, cut = read_header(the_state_file(folder))
    assert 100 <= len(cut) < first.stats.prompt_tokens <= len(whole)
    assert whole[: len(cut)] == cut
