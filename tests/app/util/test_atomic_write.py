"""The one helper every file Hearth writes for the user goes through: whole or nothing, and
the permissions any new file of the user gets (not mkstemp's private 0600)."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.util.atomic_write import PendingFile, write_atomic
from tests.support.umask import mode, umask


@pytest.mark.parametrize(("mask", "expected"), [(0o022, 0o644), (0o002, 0o664), (0o077, 0o600)])
def test_a_new_file_follows_the_umask(tmp_path: Path, mask: int, expected: int) -> None:
    target = tmp_path / "notes.fr.md"
    with umask(mask):
        write_atomic(target, "Bonjour\n")
    assert mode(target) == expected
    assert target.read_bytes() == b"Bonjour\n"


def test_a_replaced_file_keeps_its_mode(tmp_path: Path) -> None:
    shared = tmp_path / "shared.md"
    shared.write_text("old")
    shared.chmod(0o664)
    private = tmp_path / "private.md"
    private.write_text("old")
    private.chmod(0o600)
    with umask(0o022):
        write_atomic(shared, "new")
        write_atomic(private, "new")
    assert (mode(shared), mode(private)) == (0o664, 0o600)
    assert shared.read_text() == private.read_text() == "new"


def test_work_that_fails_leaves_neither_a_temporary_file_nor_a_target(tmp_path: Path) -> None:
    folder = tmp_path / "out"
    folder.mkdir()
    with pytest.raises(RuntimeError), PendingFile(folder, prefix=".x.") as pending:
        pending.write(b"half")
        raise RuntimeError("cancelled")
    with PendingFile(folder, prefix=".y.") as pending:
        pending.write(b"never committed")
    assert list(folder.iterdir()) == []
