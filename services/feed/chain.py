"""Hash chains over each ticket's timeline: audit evidence that nothing was changed,
inserted or removed afterwards.

Entry ``n`` of a ticket carries ``prev_hash`` (the hash of entry ``n-1``; 64 zeros for the
first) and ``hash = SHA-256(prev_hash | canonical JSON of the entry)``. The chain's length
and head are kept beside it (``feed_chains``), so a removed last entry shows too.
:func:`verify_chain` names the first entry that breaks the chain and why.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson

__all__ = ["GENESIS", "ChainProblem", "entry_hash", "verify_chain"]

GENESIS = "0" * 64


def _instant(value: datetime) -> str:
    """The same text for the same instant, whatever the store gave back (SQLite drops
    the zone; PostgreSQL returns it)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat(timespec="microseconds")


def entry_hash(
    prev_hash: str,
    *,
    entry_id: str,
    hub_id: str,
    seq: int,
    at: datetime,
    kind: str,
    summary: str,
    detail: Mapping[str, Any],
) -> str:
    """The hash of one timeline entry chained to ``prev_hash``."""
    body = orjson.dumps(
        {
            "entry_id": entry_id,
            "hub_id": hub_id,
            "seq": seq,
            "at": _instant(at),
            "kind": kind,
            "summary": summary,
            "detail": detail,
        },
        option=orjson.OPT_SORT_KEYS,
    )
    return hashlib.sha256(prev_hash.encode() + b"|" + body).hexdigest()


@dataclass(frozen=True, slots=True)
class ChainProblem:
    """Where a chain breaks: the ticket, the position (1-based) and what is wrong."""

    hub_id: str
    seq: int
    entry_id: str | None
    problem: str

    def __str__(self) -> str:
        where = f"entry {self.seq}" + (f" ({self.entry_id})" if self.entry_id else "")
        return f"{self.hub_id}: {where}: {self.problem}"


def verify_chain(
    hub_id: str, entries: Iterable[Mapping[str, Any]], *, length: int | None, head: str | None
) -> list[ChainProblem]:
    """The problems of one ticket's chain; ``entries`` ordered by ``seq``; ``length`` and
    ``head`` as recorded in ``feed_chains`` (None when the ticket has no chain record)."""
    problems: list[ChainProblem] = []
    expected_prev = GENESIS
    expected_seq = 1
    for row in entries:
        seq, entry_id = int(row["seq"]), str(row["entry_id"])
        if seq != expected_seq:
            what = "missing entry before this one" if seq > expected_seq else "inserted entry"
            problems.append(ChainProblem(hub_id, expected_seq, entry_id, what))
            return problems
        if row["prev_hash"] != expected_prev:
            problems.append(
                ChainProblem(hub_id, seq, entry_id, "prev_hash is not the previous entry's hash")
            )
            return problems
        computed = entry_hash(
            expected_prev,
            entry_id=entry_id,
            hub_id=hub_id,
            seq=seq,
            at=row["at"],
            kind=str(row["kind"]),
            summary=str(row["summary"]),
            detail=row["detail"],
        )
        if computed != row["hash"]:
            problems.append(ChainProblem(hub_id, seq, entry_id, "content changed (hash differs)"))
            return problems
        expected_prev = computed
        expected_seq += 1
    count = expected_seq - 1
    if length is None:
        if count:
            problems.append(ChainProblem(hub_id, count, None, "no chain record for these entries"))
    elif count != length:
        problems.append(
            ChainProblem(hub_id, count + 1, None, f"chain records {length} entries, found {count}")
        )
    elif count and head != expected_prev:
        problems.append(ChainProblem(hub_id, count, None, "last entry is not the chain's head"))
    return problems
