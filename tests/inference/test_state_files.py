"""The kept-KV-states folder (issue 13): usage, clear, forget, LRU eviction, the budget."""

from __future__ import annotations

import errno
import logging
import os
from collections.abc import Sequence
from pathlib import Path

import pytest

from inference.state_files import (
    DEFAULT_BUDGET_BYTES,
    Chunk,
    StateFiles,
    clamp_budget,
    slot_for,
)


def _write(files: StateFiles, key: str, size: int, used_at: float, model: str = "m") -> Path:
    path = files.path_for(key, slot_for(model))
    files.write(path, [b"x" * size])
    os.utime(path, (used_at, used_at))
    return path


def test_usage_clear_and_forget(tmp_path: Path) -> None:
    files = StateFiles(tmp_path / "kv", 10_000)
    assert files.usage() == 0  # no folder yet
    a1 = _write(files, "chat:1", 100, 1000, model="a.gguf")
    a2 = _write(files, "chat:1", 50, 1001, model="b.gguf")
    b = _write(files, "chat:2", 30, 1002)
    assert files.usage() == 180
    assert sorted(files.paths_of("chat:1")) == sorted([a1, a2])
    assert files.forget("chat:1") == 2
    assert not a1.exists() and not a2.exists() and b.exists()
    assert files.clear() == 1
    assert files.usage() == 0


def test_evict_removes_least_recently_used_until_within_budget(tmp_path: Path) -> None:
    files = StateFiles(tmp_path, 250)
    old = _write(files, "chat:1", 100, 1000)
    middle = _write(files, "chat:2", 100, 2000)
    new = _write(files, "chat:3", 100, 3000)
    files.touch(old)  # used just now: the middle one is the least recently used
    assert files.evict() == 1
    assert old.exists() and new.exists() and not middle.exists()
    assert files.usage() <= 250


def test_write_replaces_at_once_and_leaves_nothing_on_a_full_disk(tmp_path: Path) -> None:
    def full_disk(path: Path, chunks: Sequence[Chunk]) -> None:
        path.write_bytes(b"half")
        raise OSError(errno.ENOSPC, "No space left on device")

    files = StateFiles(tmp_path / "kv", 1000, writer=full_disk)
    target = files.path_for("chat:1", "s")
    with pytest.raises(OSError):
        files.write(target, [b"data"])
    assert os.listdir(tmp_path / "kv") == []


@pytest.mark.parametrize(
    ("asked", "expected"),
    [
        (-5, 0),
        ("lots", DEFAULT_BUDGET_BYTES),
        (float("nan"), DEFAULT_BUDGET_BYTES),
        (float("inf"), DEFAULT_BUDGET_BYTES),
        (None, DEFAULT_BUDGET_BYTES),
        (1 << 70, None),  # the disk's size
        (12345, 12345),
    ],
)
def test_absurd_budgets_are_clamped_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, asked: object, expected: int | None
) -> None:
    with caplog.at_level(logging.WARNING):
        budget = clamp_budget(asked, tmp_path / "not-yet")
    if expected is None:
        assert 0 < budget < 1 << 70
    else:
        assert budget == expected
    assert bool(caplog.records) == (asked != 12345)
