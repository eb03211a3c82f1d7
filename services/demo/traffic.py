"""Realistic supplier traffic for the demo and the benchmark.

Each generator returns ``(topic, key, value)`` with the supplier's *native* payload, the way
that supplier's tool would publish it. Generators are deterministic for a given seed.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

from services.demo.gen_servicenow import NativeEvent, servicenow_incident

__all__ = ["GENERATORS", "NativeEvent", "mixed_traffic", "servicenow_incident"]

Generator = Callable[[random.Random, int, datetime], NativeEvent]


def _generators() -> dict[str, Generator]:
    from services.demo.gen_jira import jira_event
    from services.demo.gen_mapped import leverancier_x_mixed
    from services.demo.gen_servicenow import servicenow_mixed
    from services.demo.gen_topdesk import topdesk_mixed
    from services.demo.gen_xurrent import xurrent_event

    return {
        "kpn": servicenow_mixed,
        "centric": topdesk_mixed,
        "zaakplatform": jira_event,
        "werkplekdienst": xurrent_event,
        "leverancier-x": leverancier_x_mixed,
    }


#: supplier id (of the example config) -> generator of its native payloads, mixed entities.
#: The key of every generated record is the supplier's ticket reference (number or id).
GENERATORS: dict[str, Generator] = _generators()


def mixed_traffic(
    count: int,
    *,
    seed: int = 7,
    suppliers: list[str] | None = None,
    generators: dict[str, Generator] | None = None,
) -> Iterator[NativeEvent]:
    """``count`` native events, round-robin over the suppliers that have a generator."""
    table = generators or GENERATORS
    rng = random.Random(seed)
    names = [s for s in (suppliers or list(table)) if s in table]
    now = datetime.now(UTC).replace(microsecond=0)
    for serial in range(count):
        yield table[names[serial % len(names)]](rng, serial, now)
