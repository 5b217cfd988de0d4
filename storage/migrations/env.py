"""Alembic environment for Hearth. Runs only through storage.migrate, which passes an open
SQLAlchemy connection in config.attributes["connection"]; there is no alembic.ini and no
dependence on the working directory, so it works from an installed package."""

from __future__ import annotations

from alembic import context

from storage.models import Base

connection = context.config.attributes.get("connection")
if connection is None or context.is_offline_mode():
    raise RuntimeError("Hearth migrations run through storage.migrate.upgrade_to_head only")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    # SQLite cannot ALTER most things; batch mode recreates the table instead.
    render_as_batch=True,
)
with context.begin_transaction():
    context.run_migrations()
