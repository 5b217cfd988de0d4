"""The one helper every file Hearth writes for the user goes through: whole or nothing, and
the permissions any new file of the user gets (not mkstemp's private 0600)."""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

import pytest

from app.util import atomic_write
from app.util.atomic_write import PendingFile, replace_file, write_atomic
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


def _watch_disk_flushes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Wrap the real os.fsync and os.replace: each call is logged, in order, as "file",
    "folder" or "replace"."""
    log: list[str] = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd: int) -> None:
        log.append("folder" if stat.S_ISDIR(os.fstat(fd).st_mode) else "file")
        real_fsync(fd)

    def replace(source: str | os.PathLike[str], target: str | os.PathLike[str]) -> None:
        log.append("replace")
        real_replace(source, target)

    monkeypatch.setattr(atomic_write.os, "fsync", fsync)
    monkeypatch.setattr(atomic_write.os, "replace", replace)
    return log


@pytest.mark.skipif(os.name == "nt", reason="Windows cannot flush a folder")
def test_the_file_is_flushed_before_the_rename_and_the_folder_after(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = _watch_disk_flushes(monkeypatch)
    write_atomic(tmp_path / "settings.json", "{}")
    assert log == ["file", "replace", "folder"]
    assert (tmp_path / "settings.json").read_text() == "{}"


@pytest.mark.skipif(os.name == "nt", reason="Windows cannot flush a folder")
def test_a_file_written_elsewhere_is_flushed_renamed_and_its_folder_flushed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    part = tmp_path / "model.gguf.part"
    part.write_bytes(b"GGUF")
    log = _watch_disk_flushes(monkeypatch)
    replace_file(part, tmp_path / "model.gguf")
    assert log == ["file", "replace", "folder"]
    assert (tmp_path / "model.gguf").read_bytes() == b"GGUF"
    assert not part.exists()


@pytest.mark.parametrize(
    ("step", "error"),
    [
        ("write", OSError(errno.ENOSPC, "No space left on device")),
        ("fsync", OSError(errno.EIO, "Input/output error")),
        ("replace", PermissionError(errno.EACCES, "Permission denied")),
    ],
)
def test_a_step_that_fails_leaves_the_old_file_intact(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, step: str, error: OSError
) -> None:
    folder = tmp_path / "data"
    folder.mkdir()
    target = folder / "settings.json"
    target.write_text('{"old": true}')

    def fail(*_args: object) -> None:
        raise error

    monkeypatch.setattr(atomic_write.os, step, fail)
    with pytest.raises(OSError) as raised:
        write_atomic(target, '{"new": true}')
    assert raised.value is error
    assert target.read_text() == '{"old": true}'
    assert list(folder.iterdir()) == [target]
