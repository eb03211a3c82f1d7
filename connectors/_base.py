"""The connector contract: a translator from one system's native payloads to the common model.

A translator is a pure function of the record and the supplier's context. It never talks to
Kafka; it raises a :class:`~connectors.errors.ConnectorError` for input it cannot translate.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType
from typing import NamedTuple, Protocol
from zoneinfo import ZoneInfo

from schemas import Change, ConfigurationItem, EntityKind, EventAction, Incident, SupplierSystem

__all__ = [
    "NO_HEADERS",
    "Entity",
    "InboundRecord",
    "SupplierContext",
    "Translation",
    "Translator",
    "TranslatorFactory",
]

Entity = Incident | Change | ConfigurationItem


#: the headers of a record that has none (immutable, shared)
NO_HEADERS: Mapping[str, bytes] = MappingProxyType({})


class InboundRecord(NamedTuple):
    """One native payload as it arrived, with where it came from.

    Immutable records are named tuples rather than frozen dataclasses: one is made per
    consumed record, and a named tuple is made in half the time.
    """

    value: bytes
    key: bytes | None = None
    headers: Mapping[str, bytes] = NO_HEADERS
    topic: str = ""
    partition: int = -1
    offset: int = -1


@dataclass(frozen=True, slots=True)
class SupplierContext:
    """What a translator may know about the supplier whose payload it reads."""

    supplier: str
    system: SupplierSystem
    source: str
    value_maps: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    timezone: ZoneInfo = field(default_factory=lambda: ZoneInfo("Europe/Amsterdam"))
    options: Mapping[str, str] = field(default_factory=dict)
    schakel_marker: str = "[schakel]"
    schakel_accounts: frozenset[str] = frozenset({"schakel", "schakel-integration"})


class Translation(NamedTuple):
    """One common-model object translated from a native payload, and its event identity."""

    kind: EntityKind
    action: EventAction
    entity: Entity
    native_event_key: str
    recorded_at: datetime


class Translator(Protocol):
    """Translates one supplier's native payloads (a message translator, in EIP terms).

    Built once per supplier by a :data:`TranslatorFactory`, so lookup tables with the
    supplier's overrides are compiled once, not per message.
    """

    def translate(self, record: InboundRecord) -> Sequence[Translation]:
        """The common-model objects in ``record``; raises ConnectorError when there are none."""
        ...


TranslatorFactory = Callable[[SupplierContext], Translator]
