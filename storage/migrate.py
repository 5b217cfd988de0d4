"""Alembic driven from code: no alembic.ini, no reliance on the working directory, so it
works the same from a checkout and from an installed package."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, inspect

from storage.errors import DatabaseError

# A module attribute (read at call time) so tests can point it at a copy with extra revisions.
MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"

_VERSION_TABLE = "alembic_version"


def alembic_config(connection: Connection | None = None) -> Config:
    config = Config()
    # Config values go through configparser interpolation, so a literal % must be doubled.
    config.set_main_option("script_location", str(MIGRATIONS_DIR).replace("%", "%%"))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def schema_drift(connection: Connection) -> list[object]:
    """Differences between the ORM models and the migrated schema (empty when they agree).

    The FTS5 search index (a virtual table and its shadow tables) lives outside the ORM.
    """
    from alembic.autogenerate import compare_metadata

    from storage.models import Base

    context = MigrationContext.configure(
        connection,
        opts={"include_name": lambda name, *_: not str(name).startswith("message_index")},
    )
    return list(compare_metadata(context, Base.metadata))


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current_revision(bind: Engine | Connection) -> str | None:
    """The revision stored in the database, or None for a database never migrated."""
    if isinstance(bind, Engine):
        with bind.connect() as connection:
            return current_revision(connection)
    return MigrationContext.configure(bind).get_current_revision()


def has_user_tables(connection: Connection) -> bool:
    """True when the file holds tables besides Alembic's bookkeeping, i.e. data worth a backup."""
    return any(name != _VERSION_TABLE for name in inspect(connection).get_table_names())


def is_known_revision(revision: str | None) -> bool:
    if revision is None:
        return True
    script = ScriptDirectory.from_config(alembic_config())
    return any(r.revision == revision for r in script.walk_revisions())


def upgrade_to_head(bind: Engine | Connection) -> None:
    """Migrate to head in one transaction, with foreign key enforcement off.

    Batch migrations copy a table and DROP the old one; with foreign_keys=ON that DROP would
    cascade-delete every child row (all messages of all conversations). The pragma is a no-op
    inside a transaction, hence the connection must not be in one yet. Foreign keys are checked
    by hand before commit instead.
    """
    if isinstance(bind, Engine):
        with bind.connect() as connection:
            upgrade_to_head(connection)
        return
    if bind.in_transaction():
        raise ValueError("upgrade_to_head needs a connection that is not inside a transaction")
    revision = current_revision(bind)
    bind.rollback()  # reading the revision began a transaction
    if not is_known_revision(revision):
        raise DatabaseError(
            "The chat history was saved by a newer version of Hearth. Update Hearth to open it."
        )
    driver = bind.connection.driver_connection
    assert driver is not None
    driver.execute("PRAGMA foreign_keys=OFF")
    try:
        with bind.begin():
            command.upgrade(alembic_config(bind), "head")
            broken = bind.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
            if broken:
                raise DatabaseError(
                    f"Updating the chat history would break {len(broken)} links between "
                    "messages; nothing was changed."
                )
    finally:
        driver.execute("PRAGMA foreign_keys=ON")
