"""The SQLite file: opening it safely (health check, a damaged file set aside, migrations with
a backup) and handing out short sessions. Sessions belong to the thread that opened them.

Opening applies no chat policy: what a start of the app does to the chats (replies left
streaming shown as interrupted, a damaged file's chats recovered) is the app's call."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import URL, Connection, Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from storage import migrate
from storage.data_folder import folder_problem
from storage.errors import (
    DatabaseError,
    DatabaseLockedError,
    is_refused_by_the_file,
    translated_errors,
)
from storage.fts_text import INDEX_FUNCTION, index_text
from storage.recovery_report import RecoveryNote
from storage.sqlite_file import backup_copy, damage_reason, move_aside
from storage.text_fold import CASEFOLD_FUNCTION, casefold

log = logging.getLogger(__name__)

DEFAULT_BUSY_TIMEOUT_MS = 5000


def _create_engine(path: Path, busy_timeout_ms: int) -> Engine:
    engine = create_engine(
        URL.create("sqlite+pysqlite", database=str(path)),
        # Pooled connections may be checked out by another thread; each session still uses
        # its connection from one thread only.
        connect_args={"check_same_thread": False, "timeout": busy_timeout_ms / 1000},
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Python 3.11's sqlite3 only BEGINs before DML (not SELECT or DDL); take BEGIN over so
        # transactions (migrations included) are real. SQLAlchemy's documented recipe.
        dbapi_connection.isolation_level = None
        # The search index triggers call it (storage.fts_text).
        dbapi_connection.create_function(INDEX_FUNCTION, 1, index_text, deterministic=True)
        # Filters that ignore case in any script (storage.performance).
        dbapi_connection.create_function(CASEFOLD_FUNCTION, 1, casefold, deterministic=True)
        cursor = dbapi_connection.cursor()
        try:
            # busy_timeout first, so switching to WAL waits for other writers too.
            cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
            mode = cursor.execute("PRAGMA journal_mode=WAL").fetchone()[0]
            if str(mode).lower() != "wal":
                log.warning("SQLite refused WAL (journal_mode=%s) for %s", mode, path)
            # NORMAL is durable against app crashes in WAL mode; only power loss can drop the
            # last commits, and it never corrupts.
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        connection.exec_driver_sql("BEGIN")

    return engine


def _migrate_with_backup(engine: Engine, path: Path, busy_timeout_ms: int) -> None:
    head = migrate.head_revision()
    with engine.connect() as connection:
        current = migrate.current_revision(connection)
        has_data = current is not None or migrate.has_user_tables(connection)
    if current == head:
        return
    if has_data and migrate.is_known_revision(current):
        backup = backup_copy(path, current, busy_timeout_ms)
        log.info("Backed up %s (revision %s) to %s before migrating", path, current, backup)
    migrate.upgrade_to_head(engine)


def _check_writable(engine: Engine) -> None:
    """Take the write lock and let it go, changing nothing: a file another program keeps
    locked, or one that cannot be written (read-only file or folder), fails here, while the
    error still reads as one about opening, not at the user's first message."""
    connection = engine.raw_connection()
    try:
        # The driver runs in autocommit mode (see _create_engine): this BEGIN is the only one.
        cursor = connection.cursor()
        cursor.execute("BEGIN IMMEDIATE")
        cursor.execute("ROLLBACK")
        cursor.close()
    finally:
        connection.close()


class Database:
    """One open chat-history file. Create it with Database.open(); close() when done."""

    def __init__(self, path: Path, engine: Engine) -> None:
        self.path = path
        self._engine = engine
        self._sessions = sessionmaker(engine, expire_on_commit=False)

    @classmethod
    def open(
        cls,
        path: Path,
        *,
        busy_timeout_ms: int = DEFAULT_BUSY_TIMEOUT_MS,
    ) -> tuple[Database, RecoveryNote | None]:
        """Open (creating or migrating as needed) the database at `path`.

        A damaged file is set aside and a new one created; the note says where and why
        (None for a healthy file). Its chats stay in it until the caller recovers them
        (storage.recovery.recover).

        Raises DatabaseLockedError when another program keeps the file locked, and
        DatabaseError for anything else the user has to act on.
        """
        path = Path(path)
        try:
            return cls._open(path, busy_timeout_ms)
        except DatabaseLockedError:
            raise
        except (DatabaseError, OSError) as error:
            raise _plain_open_error(path, error) from error

    @classmethod
    def _open(cls, path: Path, busy_timeout_ms: int) -> tuple[Database, RecoveryNote | None]:
        path.parent.mkdir(parents=True, exist_ok=True)
        note: RecoveryNote | None = None
        with translated_errors():
            reason = damage_reason(path, busy_timeout_ms)
            if reason is not None:
                note = RecoveryNote(moved_to=move_aside(path), reason=reason)
                log.warning("Moved damaged database %s to %s: %s", path, note.moved_to, reason)
            engine = _create_engine(path, busy_timeout_ms)
            try:
                _migrate_with_backup(engine, path, busy_timeout_ms)
                _check_writable(engine)
                database = cls(path, engine)
            except BaseException:
                engine.dispose()
                raise
        return database, note

    def columns(self, tables: Iterable[str]) -> dict[str, list[str]]:
        """Each table's column names, as the database has them now."""
        with self.session() as session:
            connection = session.connection()
            return {
                table: [
                    str(row[1])
                    for row in connection.exec_driver_sql(f'PRAGMA table_info("{table}")')
                ]
                for table in tables
            }

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A short unit of work: commits on success, rolls back on error.

        A write the file refused (its folder made read-only, the disk remounted read-only)
        raises DatabaseError naming the cause, and the pooled connections are dropped: one
        that opened the file read-only stays so, so the next session opens it again and
        works as soon as the folder is writable again."""
        try:
            with translated_errors(), self._sessions.begin() as session:
                yield session
        except DatabaseError as error:
            cause = error.__cause__  # the driver's error, when storage.errors translated one
            if cause is None or not is_refused_by_the_file(cause):
                raise
            self._engine.dispose()
            explained = _plain_open_error(self.path, error)  # the folder or the file, by name
            if explained is error:
                raise
            raise explained from error

    def close(self) -> None:
        self._engine.dispose()


def _plain_open_error(path: Path, error: BaseException) -> DatabaseError:
    """The error to show when the database cannot be opened: a full disk or a read-only
    folder or file by name, else what storage.errors made of it."""
    problem = folder_problem(path.parent)
    if problem is not None:
        return DatabaseError(problem)
    if path.exists() and not os.access(path, os.W_OK):
        return DatabaseError(
            f"The chat history file {path} is read-only, so Hearth cannot save chats in it. "
            "Make the file writable and try again."
        )
    if isinstance(error, DatabaseError):
        return error
    return DatabaseError(f"The chat history at {path} could not be opened ({error}).")
