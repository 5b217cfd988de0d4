"""Why the folder holding the database cannot be written to, in words the user can act on.

SQLite reports a full disk met while creating its shared-memory file as "disk I/O error", and
a read-only folder as "unable to open database file" or "attempt to write a readonly
database"; none of them names the cause. Writing a small file into the folder does: the
operating system's error number says whether the disk is full or the folder read-only.
"""

from __future__ import annotations

import errno
import os
import tempfile
from pathlib import Path

# As much as SQLite needs to start: its write-ahead log header and first pages, and the
# 32 KiB shared-memory file.
_PROBE_BYTES = 64 * 1024

_FULL = (errno.ENOSPC, errno.EDQUOT)
_READ_ONLY = (errno.EROFS, errno.EACCES, errno.EPERM)


def _nearest_existing(folder: Path) -> Path:
    while not folder.exists() and folder.parent != folder:
        folder = folder.parent
    return folder


def full_disk_message(folder: Path) -> str:
    return (
        f"The disk holding Hearth's data folder ({folder}) is full, so the chat history "
        "cannot be opened or saved. Free some space on it and try again."
    )


def read_only_message(folder: Path, blocked: Path | None = None) -> str:
    """`blocked`: the folder above `folder` that is read-only, when `folder` does not exist."""
    fix = "Make it writable, or point HEARTH_HOME at another folder."
    if blocked is not None and blocked != folder:
        return f"Hearth cannot create its data folder {folder}: {blocked} is read-only. {fix}"
    return (
        f"Hearth's data folder {folder} is read-only, so the chat history cannot be opened "
        f"or saved there. {fix}"
    )


def folder_problem(folder: Path) -> str | None:
    """A message naming what stops writes into `folder` (or the nearest folder above it
    that exists): a full disk or a read-only folder. None when a write succeeds."""
    existing = _nearest_existing(folder)
    try:
        with tempfile.NamedTemporaryFile(dir=existing, prefix=".hearth-write-check-") as probe:
            probe.write(b"\0" * _PROBE_BYTES)
            probe.flush()
            os.fsync(probe.fileno())
    except OSError as error:
        if error.errno in _FULL:
            return full_disk_message(existing)
        if error.errno in _READ_ONLY:
            return read_only_message(folder, existing)
        return None
    return None
