"""Every error storage raises, in one module. Their messages are shown to the user as they
are, so they use plain words."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import exc as sa_exc


class DatabaseError(Exception):
    """Something went wrong with the chat history file; the message is for the user."""


class DatabaseLockedError(DatabaseError):
    """Another program held the database file locked for longer than busy_timeout."""


class RecordNotFoundError(DatabaseError, LookupError):
    """A conversation or message that the caller named does not exist (or is in the trash)."""


class PresetNameTakenError(ValueError):
    """Another preset already has the name the caller gave (storage.presets)."""


class TreeShapeError(ValueError):
    """The messages do not form a tree: a parent is missing, or parents form a cycle
    (storage.bulk_import)."""


class UnreadableFileError(Exception):
    """Not even the list of tables of a damaged file could be read: there is nothing to
    recover (storage.damaged_file)."""


LOCKED_MESSAGE = (
    "The chat history is locked by another program (perhaps a second Hearth window). "
    "Close it and try again."
)

# Extended result names that Python 3.11 exposes as sqlite3.Error.sqlite_errorname.
_LOCKED_NAMES = ("SQLITE_BUSY", "SQLITE_LOCKED")
_CORRUPT_NAMES = ("SQLITE_NOTADB", "SQLITE_CORRUPT")
_FILE_NAMES = ("SQLITE_READONLY", "SQLITE_IOERR", "SQLITE_CANTOPEN")


def _error_name(error: BaseException) -> str:
    return str(getattr(error, "sqlite_errorname", "") or "")


def is_locked(error: BaseException) -> bool:
    if _error_name(error).startswith(_LOCKED_NAMES):
        return True
    # Older SQLite builds may not fill in the name; the message is stable.
    return "database is locked" in str(error) or "database table is locked" in str(error)


def is_corrupt(error: BaseException) -> bool:
    if _error_name(error).startswith(_CORRUPT_NAMES):
        return True
    text = str(error)
    return "file is not a database" in text or "malformed" in text


def is_refused_by_the_file(error: BaseException) -> bool:
    """SQLite could not write (or open) the file itself: a read-only file or folder, a disk
    remounted read-only under an open file (an I/O error), a file it cannot create."""
    cause = error.orig if isinstance(error, sa_exc.DBAPIError) else error
    name = _error_name(cause) if cause is not None else ""
    if name.startswith(_FILE_NAMES):
        return True
    return "readonly database" in str(cause) or "unable to open database file" in str(cause)


def plain_error(error: BaseException) -> DatabaseError:
    """Map a low-level sqlite3 error to one the user can read."""
    if is_locked(error):
        return DatabaseLockedError(LOCKED_MESSAGE)
    if _error_name(error).startswith("SQLITE_FULL") or "disk is full" in str(error):
        return DatabaseError("The disk is full, so the chat history could not be saved.")
    if is_corrupt(error):
        return DatabaseError(
            "The chat history file is damaged. Restart Hearth to set the damaged file aside."
        )
    return DatabaseError(f"The chat history could not be read or saved ({error}).")


@contextmanager
def translated_errors() -> Iterator[None]:
    """Re-raise driver errors as DatabaseError so callers above storage need one except clause."""
    try:
        yield
    except sa_exc.DBAPIError as error:
        raise plain_error(error.orig if error.orig is not None else error) from error
    except sqlite3.Error as error:
        raise plain_error(error) from error
