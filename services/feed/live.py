"""Live updates: the projector tells the pages that the read model changed (server-sent
events). In-process only: the cockpit's HTTP server runs beside its projector."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterable

__all__ = ["Changes"]


class Changes:
    """A counter that moves each time a batch changed the read model; waiters wake up."""

    def __init__(self) -> None:
        self.version = 0
        self.last: frozenset[str] = frozenset()
        self._changed = asyncio.Condition()

    async def notify(self, hub_ids: Iterable[str] = ()) -> None:
        async with self._changed:
            self.version += 1
            self.last = frozenset(hub_ids)
            self._changed.notify_all()

    async def wait(self, seen: int, timeout_s: float) -> int:
        """The version once it is past ``seen`` (or after ``timeout_s``, unchanged)."""
        async with self._changed:
            if self.version > seen:
                return self.version
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), timeout_s)
            return self.version
