"""Alembic environment of the read model: run on a connection the caller hands in
(``config.attributes["connection"]``), or on ``sqlalchemy.url`` for the ``alembic`` CLI."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from services.feed._tables import metadata

VERSION_TABLE = "feed_alembic_version"


def _run(connection: object) -> None:
    context.configure(
        connection=connection,  # type: ignore[arg-type]
        target_metadata=metadata,
        version_table=VERSION_TABLE,
        render_as_batch=True,  # SQLite alters tables by copying them
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = context.config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    url = context.config.get_main_option("sqlalchemy.url") or "sqlite:///schakel.db"
    with create_engine(url).begin() as conn:
        _run(conn)
