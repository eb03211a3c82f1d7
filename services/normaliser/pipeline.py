"""The normaliser's logic: native record in, CloudEvent or dead letter out. No Kafka here.

For each inbound record (a *normalizer* in EIP terms):

1. the inbound topic names the supplier; an unknown supplier is a dead letter;
2. a record above the supplier's ``max_payload_bytes`` is a dead letter;
3. the supplier's translator turns the native payload into common-model entities;
4. personal data is minimised (:mod:`services.privacy`: e-mail, phone, IBAN, BSN);
5. the :class:`VersionGate` drops what must not be emitted: an exact redelivery of an event
   already emitted, an update older than the newest seen for that ticket (stale), and a change
   Schakel itself wrote into the supplier's tool (echo);
6. each entity is wrapped in an NL GOV CloudEvent keyed by its hub id.

Any failure of steps 1-4 sends the original record to the dead-letter channel with the reason;
nothing raises out of :meth:`Normaliser.normalise_batch`.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from pydantic import ValidationError

from connectors import NO_HEADERS, ConnectorError, InboundRecord, Translation, Translator
from schemas import SchemaError, event_id
from schemas.topics import supplier_of_inbound
from schemas.wire import encode_normalised
from services.errors import PayloadTooLarge, RejectedRecord, UnknownSupplier
from services.logs import get_logger
from services.messaging import OutboundMessage, RawRecord, reject
from services.privacy import Minimiser

__all__ = [
    "BatchResult",
    "Normaliser",
    "RawRecord",
    "SupplierRoute",
    "VersionGate",
]

SERVICE = "normaliser"

log = get_logger(__name__)


@dataclass(frozen=True, slots=True)
class SupplierRoute:
    """What the normaliser needs per supplier: its translator, source URN and size limit."""

    translator: Translator
    source: str
    max_payload_bytes: int = 1_048_576


@dataclass(slots=True)
class BatchResult:
    messages: list[OutboundMessage] = field(default_factory=list)
    normalised: int = 0
    dead_lettered: int = 0
    duplicates: int = 0
    stale: int = 0
    echoes: int = 0


class VersionGate:
    """Idempotent consumer: remembers the newest version and event id per hub id.

    Bounded (least recently used tickets are forgotten first). At start it is seeded from
    the tail of the normalised topics (:func:`services.normaliser.seed.seed_gate`), so a
    supplier's redelivery after a restart is still recognised; anything older than that
    window is emitted again with the same event id, on which every consumer downstream is
    idempotent.
    """

    __slots__ = ("_capacity", "_seen", "_undo")

    def __init__(self, capacity: int = 500_000) -> None:
        self._capacity = capacity
        self._seen: OrderedDict[str, tuple[int, str]] = OrderedDict()
        self._undo: dict[str, tuple[int, str] | None] | None = None

    def begin(self) -> None:
        """Start a batch: what the gate learns from here on can be taken back."""
        self._undo = {}

    def commit(self) -> None:
        """The batch's results were acknowledged: keep what the gate learned."""
        self._undo = None

    def rollback(self) -> None:
        """The batch was not (wholly) acknowledged and will be consumed again: forget what
        the gate learned from it, so its redelivery is emitted and not taken for a duplicate."""
        undo, self._undo = self._undo, None
        for hub, previous in (undo or {}).items():
            if previous is None:
                self._seen.pop(hub, None)
            else:
                self._seen[hub] = previous

    def verdict(self, hub: str, version: int, ev_id: str) -> str | None:
        """None to emit; else 'duplicate' or 'stale'. Records emitted versions."""
        last = self._seen.get(hub)
        if last is not None:
            last_version, last_id = last
            if ev_id == last_id:
                return "duplicate"
            if version < last_version:
                return "stale"
        self._remember(hub, version, ev_id)
        return None

    def observe(self, hub: str, version: int, ev_id: str) -> None:
        """Record a version that is not emitted (an echo of Schakel's own write)."""
        last = self._seen.get(hub)
        if last is None or version >= last[0]:
            self._remember(hub, version, ev_id)

    def _remember(self, hub: str, version: int, ev_id: str) -> None:
        undo = self._undo
        if undo is not None and hub not in undo:
            undo[hub] = self._seen.get(hub)
        self._seen[hub] = (version, ev_id)
        self._seen.move_to_end(hub)
        if len(self._seen) > self._capacity:
            self._seen.popitem(last=False)


class Normaliser:
    """Turns batches of inbound records into normalised events and dead letters."""

    def __init__(
        self,
        routes: Mapping[str, SupplierRoute],
        gate: VersionGate | None = None,
        minimiser: Minimiser | None = None,
    ):
        self.routes = dict(routes)
        self.gate = gate or VersionGate()
        self.minimise = (minimiser or Minimiser()).entity
        self._by_topic: dict[str, tuple[str, SupplierRoute | None]] = {}

    def _route_of(self, topic: str) -> tuple[str, SupplierRoute | None]:
        """The supplier and route of an inbound topic (looked up once per topic)."""
        found = self._by_topic.get(topic)
        if found is None:
            supplier = supplier_of_inbound(topic) or ""
            found = (supplier, self.routes.get(supplier))
            if len(self._by_topic) < 1024:
                self._by_topic[topic] = found
        return found

    def normalise_batch(self, records: Iterable[RawRecord]) -> BatchResult:
        result = BatchResult()
        for record in records:
            self._one(record, result)
        return result

    def _one(self, record: RawRecord, result: BatchResult) -> None:
        value = record.value or b""
        try:
            translations = self._translate(record, value)
            for translation in translations:
                self._emit(translation, record, result)
        except (ConnectorError, RejectedRecord) as exc:
            self._reject(record, exc, exc.reason, result)
        except (ValidationError, SchemaError) as exc:
            self._reject(record, exc, f"invalid for the common model: {exc}", result)
        except Exception as exc:  # a connector bug must not block the partition
            log.exception(
                "normaliser bug; record dead-lettered",
                topic=record.topic,
                partition=record.partition,
                offset=record.offset,
            )
            self._reject(record, exc, f"internal error: {exc!r}", result)

    def _translate(self, record: RawRecord, value: bytes) -> Sequence[Translation]:
        supplier, route = self._route_of(record.topic)
        if route is None:
            raise UnknownSupplier(f"no supplier is configured for topic '{record.topic}'")
        if len(value) > route.max_payload_bytes:
            raise PayloadTooLarge(
                f"payload of {len(value)} bytes exceeds the limit of "
                f"{route.max_payload_bytes} bytes for supplier '{supplier}'"
            )
        headers = record.headers
        inbound = InboundRecord(
            value,
            record.key,
            dict(headers) if headers else NO_HEADERS,
            record.topic,
            record.partition,
            record.offset,
        )
        return route.translator.translate(inbound)

    def _emit(self, translation: Translation, record: RawRecord, result: BatchResult) -> None:
        entity = self.minimise(translation.entity)
        supplier = entity.supplier_ref.supplier
        ev_id = event_id(supplier, translation.native_event_key)
        if entity.origin.by_schakel:
            self.gate.observe(entity.hub_id, entity.version, ev_id)
            result.echoes += 1
            return
        verdict = self.gate.verdict(entity.hub_id, entity.version, ev_id)
        if verdict == "duplicate":
            result.duplicates += 1
            return
        if verdict == "stale":
            result.stale += 1
            log.debug(  # per record: counted in the batch result, not logged at info
                "stale update ignored", hub_id=entity.hub_id, event_id=ev_id, version=entity.version
            )
            return
        encoded = encode_normalised(
            entity,
            kind=translation.kind,
            action=translation.action,
            event_id=ev_id,
            source=self.routes[supplier].source,
            time=translation.recorded_at,
        )
        result.messages.append(OutboundMessage(*encoded))
        result.normalised += 1

    def _reject(
        self, record: RawRecord, exc: BaseException, reason: str, result: BatchResult
    ) -> None:
        result.messages.append(reject(record, exc, reason, service=SERVICE))
        result.dead_lettered += 1
