"""Recognising a replayed webhook: a bounded memory of what was accepted, and for how long.

A signed request is identified by what its signature covers: the supplier and the verified
HMAC digest (of the body, or of ``<timestamp>.<body>``), or the supplier and the JWT's
``jti``. :meth:`ReplayGuard.reserve` takes such a key for a while (the timestamp window,
the JWT's remaining life, or :data:`DEFAULT_TTL_S` for signatures without a timestamp); a
second request with the same key in that time is a replay. A reservation whose publication
fails is given back (:meth:`ReplayGuard.forget`), so the supplier's retry is not mistaken
for a replay.

The memory is per gateway process and bounded (the oldest entries go first): a replica
behind a load balancer sees only its own share. Bearer-token requests carry nothing signed
and cannot be told from a replay; suppliers that can sign should (``webhook_auth: hmac``).
"""

from __future__ import annotations

import hashlib
import time
from collections import OrderedDict
from collections.abc import Callable

from services.messaging import OutboundMessage

__all__ = ["DEFAULT_TTL_S", "ReplayGuard", "replay_key"]

#: how long a signature without a timestamp is remembered
DEFAULT_TTL_S = 24 * 3600.0


def replay_key(supplier_id: str, kind: str, proof: bytes) -> bytes:
    """The identity of a signed request: supplier, kind (``hmac``/``jwt``) and proof."""
    return hashlib.sha256(b"\0".join((supplier_id.encode(), kind.encode(), proof))).digest()


class ReplayGuard:
    """Keys seen recently, each until its own expiry; at most ``max_entries``."""

    def __init__(
        self, *, max_entries: int = 200_000, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._until: OrderedDict[bytes, float] = OrderedDict()
        self._by_message: dict[OutboundMessage, bytes] = {}
        self._max = max_entries
        self._clock = clock

    def __len__(self) -> int:
        return len(self._until)

    def reserve(self, key: bytes, ttl_s: float, message: OutboundMessage) -> bool:
        """Take ``key`` for ``ttl_s`` for ``message``; False if it is taken (a replay)."""
        now = self._clock()
        until = self._until.get(key)
        if until is not None and until > now:
            return False
        self._until[key] = now + max(ttl_s, 1.0)
        self._until.move_to_end(key)
        self._by_message[message] = key
        while len(self._until) > self._max:
            old, _ = self._until.popitem(last=False)
            self._by_message = {m: k for m, k in self._by_message.items() if k != old}
        return True

    def accepted(self, message: OutboundMessage) -> None:
        """``message`` was published: its key stays taken until it expires."""
        self._by_message.pop(message, None)

    def forget(self, message: OutboundMessage) -> None:
        """``message`` was not published: its key is free again (the retry is no replay)."""
        key = self._by_message.pop(message, None)
        if key is not None:
            self._until.pop(key, None)
