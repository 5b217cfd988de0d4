"""Checks and copies of the database file done with the plain sqlite3 module, before (or
beside) the SQLAlchemy engine: health check, moving a damaged file aside, backups."""

from __future__ import annotations

import sqlite3
from datetime import datetime
from pathlib import Path

from storage.errors import LOCKED_MESSAGE, DatabaseLockedError, is_corrupt, is_locked

# SQLite's companion files. Renamed together so a moved-aside copy still opens with its WAL.
_COMPANION_SUFFIXES = ("-wal", "-shm", "-journal")


def timestamp() -> str:
    return datetime.now().strftime("%Y%m%d-%H%M%S")


def unused_path(path: Path) -> Path:
    """`path`, or `path-2`, `path-3`... so two events in the same second never overwrite."""
    candidate, n = path, 1
    while candidate.exists():
        n += 1
        candidate = path.with_name(f"{path.name}-{n}")
    return candidate


def damage_reason(path: Path, busy_timeout_ms: int) -> str | None:
    """Why the file at `path` is not a usable database, or None if it is fine (or absent).

    Raises DatabaseLockedError when another program holds it locked: a locked file is healthy
    and must never be moved aside.
    """
    if not path.exists() or path.stat().st_size == 0:
        return None
    try:
        # Read-only: a read-write connection may checkpoint or delete a -wal it cannot use on
        # close, destroying what a damaged file's companions might still let someone recover.
        connection = sqlite3.connect(
            f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=busy_timeout_ms / 1000
        )
        try:
            rows = connection.execute("PRAGMA quick_check").fetchall()
        finally:
            connection.close()
    except sqlite3.Error as error:
        if is_locked(error):
            raise DatabaseLockedError(LOCKED_MESSAGE) from error
        if is_corrupt(error):
            return str(error)
        raise
    results = [str(row[0]) for row in rows]
    if results != ["ok"]:
        return "; ".join(results[:5])
    return None


def move_aside(path: Path) -> Path:
    """Rename the database and its companions to `<name>.corrupt-<time>`; returns the new path."""
    target = unused_path(path.with_name(f"{path.name}.corrupt-{timestamp()}"))
    path.rename(target)
    for suffix in _COMPANION_SUFFIXES:
        companion = path.with_name(path.name + suffix)
        if companion.exists():
            companion.rename(target.with_name(target.name + suffix))
    return target


def backup_copy(path: Path, revision: str | None, busy_timeout_ms: int) -> Path:
    """Consistent copy of a live database (WAL contents included) via sqlite3's backup API."""
    target = unused_path(path.with_name(f"{path.name}.backup-{revision or 'base'}-{timestamp()}"))
    source = sqlite3.connect(path, timeout=busy_timeout_ms / 1000)
    try:
        destination = sqlite3.connect(target)
        try:
            source.backup(destination)
        finally:
            destination.close()
    finally:
        source.close()
    return target
