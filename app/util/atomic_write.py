"""Write a file whole or not at all, with the permissions any new file of the user gets.

Every file Hearth replaces goes through here (translations, chat exports, summaries,
glossaries, presets, the settings files, the imported-model list, downloaded and assembled
models): the new content is written to a file in the target's folder, flushed to disk
(fsync), renamed over the target, and the folder is flushed too, so that after a crash or a
power cut a reader sees the old file or the whole new one, never an empty or half one under
the target's name, and a failed or cancelled run leaves nothing behind.

Only the app writes such files: storage's only file operations are SQLite's own and moving a
damaged database aside, and the engine process writes nothing, so this lives in app.util.

`tempfile.mkstemp` creates its file with mode 0600, and a rename keeps that mode: every
translated file came out private while its source was 0644. Here the temporary file is
created by `os.open(..., 0o666)`, so the kernel applies the user's umask (and a folder's
default ACL) exactly as for a file saved by any editor; reading the umask instead would mean
setting it, which races with other threads. A file that is replaced keeps its own mode.
"""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
import stat
from pathlib import Path
from types import TracebackType

_NEW_FILE_MODE = 0o666  # less the umask, as open() and every editor do
_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
_FLAGS |= getattr(os, "O_BINARY", 0)  # Windows: no newline translation
_NAME_TRIES = 100


class PendingFile:
    """A temporary file in `folder` that becomes the target on `commit`, and is removed by
    `discard` (or on leaving a `with` block without a commit). Made before long work
    starts, so an unwritable folder is reported before anything is done."""

    def __init__(self, folder: Path, prefix: str) -> None:
        for _ in range(_NAME_TRIES):
            path = folder / f"{prefix}{secrets.token_hex(4)}.part"
            try:
                self._fd: int | None = os.open(path, _FLAGS, _NEW_FILE_MODE)
            except FileExistsError:
                continue
            self.path = path
            return
        raise FileExistsError(f"{folder}: no free name for a temporary file")

    def write(self, data: bytes) -> None:
        """Append all of `data` (may be called once per block of a long write)."""
        fd = self._open_fd()
        view = memoryview(data)
        while view:
            written = os.write(fd, view)
            view = view[written:]

    def commit(self, target: Path) -> Path:
        """Put the written file in place of `target`; an existing target keeps its mode."""
        fd = self._open_fd()
        with contextlib.suppress(FileNotFoundError):
            existing = target.stat()
            if stat.S_ISREG(existing.st_mode):
                _set_mode(fd, self.path, stat.S_IMODE(existing.st_mode))
        # On disk before the rename: a rename that lands before the data after a crash
        # leaves an empty file under the target's name.
        os.fsync(fd)
        self._close()
        _rename_durably(self.path, target)
        return target

    def discard(self) -> None:
        self._close()
        self.path.unlink(missing_ok=True)

    def __enter__(self) -> PendingFile:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        if self._fd is not None or kind is not None:
            self.discard()

    def _open_fd(self) -> int:
        if self._fd is None:
            raise ValueError(f"{self.path}: already committed or discarded")
        return self._fd

    def _close(self) -> None:
        if self._fd is not None:
            fd, self._fd = self._fd, None
            os.close(fd)


def write_atomic(target: Path, data: bytes | str) -> None:
    """Replace `target` with `data` (text is written as UTF-8, newlines as given)."""
    payload = data.encode("utf-8") if isinstance(data, str) else data
    with PendingFile(target.parent, prefix=f".{target.name}.") as pending:
        pending.write(payload)
        pending.commit(target)


def replace_file(source: Path, target: Path) -> Path:
    """Put `source`, a file written and closed elsewhere (a resumable download, a model
    assembled from chunks), in place of `target` in the same folder, with the same
    guarantees as `write_atomic`. `source` keeps its own mode."""
    fd = os.open(source, os.O_RDONLY | getattr(os, "O_BINARY", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    _rename_durably(source, target)
    return target


def _rename_durably(source: Path, target: Path) -> None:
    """Rename, then flush the folder: the rename itself is only on disk once the folder
    entry is (POSIX; Windows cannot open a folder to flush it, and NTFS journals renames)."""
    os.replace(source, target)
    if os.name == "nt":
        return
    folder = os.open(target.parent, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(folder)
    except OSError as exc:
        # Some file systems (network shares, FUSE) cannot flush a folder; the rename is done.
        if exc.errno not in (errno.EINVAL, errno.ENOTSUP, errno.EBADF):
            raise
    finally:
        os.close(folder)


def _set_mode(fd: int, path: Path, mode: int) -> None:
    if hasattr(os, "fchmod"):
        os.fchmod(fd, mode)
    else:  # Windows has no fchmod; only the read-only bit means anything there
        os.chmod(path, mode)
