"""Alembic migrations of the cockpit's read model (run by :func:`services.feed.store.migrate`)."""
