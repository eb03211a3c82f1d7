"""The hub's relational store: SQLite by default, PostgreSQL in production.

One SQLAlchemy ``MetaData`` holds every table; each service declares its own tables in its
own package against :data:`metadata` (``services.router._tables``, ``services.delivery._tables``,
...), shared state in its leaf module (``services.tickets.tables``), and imports them before
:func:`open_store`. Kafka stays the system of record: what is
here is state a service needs (routing decisions for ``route explain``, receiver references,
idempotency keys, correlations) and can be rebuilt from the topics.

URLs: ``sqlite+aiosqlite:///schakel.db`` (default, ``SCHAKEL_STORE_URL``) or
``postgresql+psycopg://user:pw@host/db``.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import MetaData, event
from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import ConnectionPoolEntry

__all__ = ["metadata", "open_store"]

#: Every table of the hub; naming convention gives constraints stable names on both backends.
metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "pk": "pk_%(table_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    }
)


def _sqlite_pragmas(dbapi_connection: object, _record: ConnectionPoolEntry) -> None:
    cursor = dbapi_connection.cursor()  # type: ignore[attr-defined]
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


async def open_store(url: str, *, create: bool = True, **options: Any) -> AsyncEngine:
    """An engine for ``url`` with every declared table created (idempotent); ``options``
    go to SQLAlchemy's ``create_async_engine`` (e.g. a JSON serializer)."""
    engine = create_async_engine(url, pool_pre_ping=True, **options)
    if engine.dialect.name == "sqlite":
        sync_engine: Engine = engine.sync_engine
        event.listen(sync_engine, "connect", _sqlite_pragmas)
    if create:
        async with engine.begin() as conn:
            await conn.run_sync(metadata.create_all)
    return engine
