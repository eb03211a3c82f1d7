"""Local fakes of the four suppliers' APIs (eBonding's far side), for ``make demo`` and tests.

Each fake implements the documented subset that the sync service writes through
(``connectors/<system>/outbound.py``) and that the connector reads back, behind Bearer or
Basic authentication (the secret names the account that writes):

* :class:`ServiceNowApi`: Table API ``GET``/``PATCH api/now/table/incident/<sys_id>``;
  writable ``comments``, ``work_notes``, ``state``, ``hold_reason``, ``close_code``,
  ``close_notes``, ``impact``, ``urgency``, ``correlation_id``, ``correlation_display`` (raw
  string values; anything else is 400). State 6 needs close_code and close_notes, state 3 a
  hold_reason; leaving 6/7 for 1-3 counts a reopen; ``priority`` follows impact x urgency.
  Journals are sent as a business rule's ``getJournalEntry(-1)`` string, newest first.
* :class:`TopdeskApi`: ``GET``/``PATCH tas/api/incidents/id/<id>``; writable ``action``,
  ``actionInvisibleForCaller``, ``completed``, ``closed``, ``priority`` ``{name}``,
  ``externalNumber`` (max 60). The action becomes the newest progress-trail entry; the
  modifier is the writing account. Un-completing keeps ``completedDate`` (what the connector
  reads as a reopen).
* :class:`JiraApi`: Cloud REST v3 ``GET``/``PUT issue/<id>`` (``fields.priority.name``),
  ``POST issue/<id>/comment`` (an ADF ``body``, ``properties`` ``sd.public.comment``) and
  ``POST issue/<id>/transitions`` (``transition.id`` of :data:`JIRA_TRANSITIONS`; unknown
  ids are 400). Webhooks are the site's events: ``comment_created`` and
  ``jira:issue_updated`` with a changelog.
* :class:`XurrentApi`: ``GET``/``PATCH v1/requests/<id>`` (``note``, ``internal_note``,
  ``status``, ``impact``, ``completion_reason``) and ``GET v1/requests/<id>/notes``;
  ``X-4me-Account`` must name the account when sent. Webhooks are ``request.*`` envelopes
  with the request in ``payload``.

Every fake records every write it received (:attr:`FakeSupplierApi.received`, refused ones
with their status), can be told to fail the next writes (:meth:`~FakeSupplierApi.fail`), to
go down (``await go_down("refused")`` closes the port: connection refused; ``go_down(503)``
answers every request with that status) and to come back (:meth:`~FakeSupplierApi.come_back`).
Each change (the supplier's own or a write) queues the webhook the supplier's tool sends for
it; :meth:`~FakeSupplierApi.emit` produces the queued ones onto the supplier's inbound topic.
``lenient=True`` (the demo) takes writes for records it has not seen, as a stub record.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import itertools
import socket
import uuid
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar, Literal
from zoneinfo import ZoneInfo

import orjson
import uvicorn
from fastapi import FastAPI, Request, Response

from schemas import EntityKind, SupplierSystem, hub_id
from schemas.topics import inbound_topic
from services.messaging import KafkaBatchPublisher, OutboundMessage

__all__ = [
    "JIRA_TRANSITIONS",
    "FakeSupplierApi",
    "JiraApi",
    "Received",
    "ServiceNowApi",
    "TopdeskApi",
    "XurrentApi",
    "fake_for",
]

Json = dict[str, Any]
_AMSTERDAM = ZoneInfo("Europe/Amsterdam")
_JSON = "application/json"


@dataclass
class Received:
    """One write the fake took (status 2xx) or refused (its status)."""

    record_id: str
    method: str
    path: str
    body: Json
    account: str
    status: int
    headers: dict[str, str]

    @property
    def sys_id(self) -> str:  # the ServiceNow tests' name for the record id
        return self.record_id


class _Refused(Exception):
    def __init__(self, status: int, message: str = "refused") -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    body = {"error": {"message": message, "detail": ""}, "status": "failure"}
    return Response(orjson.dumps(body), status_code=status, media_type=_JSON, headers=headers)


def _ok(document: object, status: int = 200) -> Response:
    return Response(orjson.dumps(document), status_code=status, media_type=_JSON)


class FakeSupplierApi(ABC):
    """What the four fakes share: accounts, the record of writes, outages, webhooks."""

    system: ClassVar[SupplierSystem]
    label: ClassVar[str]

    def __init__(
        self,
        supplier: str,
        tokens: dict[str, str],
        *,
        lenient: bool = False,
        on_update: Callable[[FakeSupplierApi, Received], None] | None = None,
    ) -> None:
        self.supplier = supplier
        self.tokens = tokens  # secret (bearer token or user:password) -> account
        self.lenient = lenient
        self.on_update = on_update
        self.received: list[Received] = []
        self._planned: deque[tuple[int, dict[str, str]]] = deque()
        self._outage: int | None = None
        self._pending: dict[str, list[bytes]] = {}
        self._clock = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
        self._server: _Listener | None = None
        self._stubs: set[str] = set()  # records taken as new on a lenient write
        self.app = FastAPI(title=f"{self.label} (fake)")

        @self.app.middleware("http")
        async def outage(
            request: Request, call_next: Callable[[Request], Awaitable[Response]]
        ) -> Response:
            if self._outage is not None:
                return _error(self._outage, "service unavailable (maintenance)")
            return await call_next(request)

    # -- controls ---------------------------------------------------------------------------

    def fail(self, times: int, *, status: int = 503, retry_after: str | None = None) -> None:
        """The next ``times`` writes fail with ``status`` (and Retry-After)."""
        headers = {"Retry-After": retry_after} if retry_after is not None else {}
        self._planned.extend([(status, headers)] * times)

    def accepted(self, record_id: str | None = None) -> list[Received]:
        return [
            r for r in self.received if 200 <= r.status < 300 and record_id in (None, r.record_id)
        ]

    async def go_down(self, how: Literal["refused"] | int = "refused") -> None:
        """An outage: ``"refused"`` closes the port, a status answers every request with it."""
        if how == "refused":
            if self._server is None:
                raise RuntimeError("go_down('refused') needs the fake served by serving()")
            await self._server.stop()
        else:
            self._outage = int(how)

    async def come_back(self) -> None:
        self._outage = None
        if self._server is not None and not self._server.running:
            await self._server.start()

    @contextlib.asynccontextmanager
    async def serving(self, host: str = "127.0.0.1", port: int = 0) -> AsyncIterator[str]:
        """Serve the fake while inside; yields ``http://host:port`` (the API root)."""
        listener = _Listener(self.app, host, port)
        await listener.start()
        self._server = listener
        try:
            yield f"http://{host}:{listener.port}"
        finally:
            self._server = None
            await listener.stop()

    def now(self) -> datetime:
        """A clock that moves one second per change: every version is its own."""
        self._clock += timedelta(seconds=1)
        return self._clock

    def hub_id(self, record_id: str) -> str:
        return hub_id(self.supplier, EntityKind.INCIDENT, record_id)

    def webhooks(self, record_id: str) -> list[bytes]:
        """The webhooks queued for ``record_id`` since the last call (then cleared)."""
        return self._pending.pop(record_id, [])

    async def emit(self, bootstrap: str, record_id: str) -> int:
        """The supplier's tool posts the queued webhooks of ``record_id`` to its inbound topic;
        returns how many."""
        bodies = self.webhooks(record_id)
        if not bodies:
            return 0
        publisher = KafkaBatchPublisher(bootstrap, client_id=f"fake-{self.system.value}")
        await publisher.start()
        try:
            key = self.key(record_id).encode()
            topic = inbound_topic(self.supplier)
            await publisher.send_all([OutboundMessage(topic, body, key) for body in bodies])
        finally:
            await publisher.stop()
        return len(bodies)

    # -- per system -------------------------------------------------------------------------

    @abstractmethod
    def create_incident(self, record_id: str, number: str, *, title: str = ...) -> Json:
        """A new incident in the supplier's tool (queues its webhook)."""

    @abstractmethod
    def resolve(self, record_id: str) -> None:
        """One of the supplier's agents resolves the incident (queues its webhook)."""

    @abstractmethod
    def reopened(self, record_id: str) -> bool:
        """Whether the incident is open again after a resolution."""

    @abstractmethod
    def key(self, record_id: str) -> str:
        """The inbound record key (the supplier's number or id)."""

    @abstractmethod
    def written_text(self, received: Received) -> str:
        """The text a write carried into the tool (comment, note, action), "" if none."""

    def describe(self, received: Received) -> str:
        """One line about a write, for the demo's console: the record, the request and the
        text it carried (paragraphs joined)."""
        known = received.record_id in self._records() and received.record_id not in self._stubs
        number = f"{self.key(received.record_id)}: " if known else ""
        text = " / ".join(p.strip() for p in self.written_text(received).split("\n\n") if p)
        fields = sorted(k for k in received.body if k not in self._text_fields)
        changed = f" [{', '.join(fields)}]" if fields else ""
        return f"{number}{received.method} {received.path}{changed}: {text[:200]}"

    #: Body fields that carry the written text (left out of the changed-fields list).
    _text_fields: ClassVar[frozenset[str]] = frozenset(
        {
            "comments",
            "work_notes",
            "action",
            "actionInvisibleForCaller",
            "note",
            "internal_note",
            "body",
            "properties",
        }
    )

    # -- the shared write path ----------------------------------------------------------------

    def account(self, request: Request) -> str | None:
        scheme, _, value = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() == "bearer":
            return self.tokens.get(value)
        if scheme.lower() == "basic":
            try:
                return self.tokens.get(base64.b64decode(value).decode())
            except ValueError:
                return None
        return None

    async def _write(
        self,
        record_id: str,
        request: Request,
        apply: Callable[[str, Json, str], object],
        *,
        status: int = 200,
    ) -> Response:
        account = self.account(request)
        headers = {k.lower(): v for k, v in request.headers.items()}
        try:
            body = orjson.loads(await request.body())
        except orjson.JSONDecodeError:
            body = None
        document: object = None
        extra: dict[str, str] = {}
        message = "refused"
        if account is None:
            status, message = 401, "not authenticated"
        elif self._planned:
            status, extra = self._planned.popleft()
        elif not isinstance(body, dict):
            status, message = 400, "a JSON object is required"
        else:
            try:
                if record_id not in self._records() and self.lenient:
                    self._stub(record_id)
                    self._stubs.add(record_id)
                document = apply(record_id, body, account)
            except _Refused as refused:
                status, message = refused.status, refused.message
        received = Received(
            record_id,
            request.method,
            request.url.path,
            body if isinstance(body, dict) else {},
            account or "",
            status,
            headers,
        )
        self.received.append(received)
        if status >= 300:
            return _error(status, message, extra)
        if self.on_update is not None:
            self.on_update(self, received)
        if status == 204:
            return Response(status_code=204)
        return _ok(document, status)

    async def _read(self, request: Request, document: Callable[[], object]) -> Response:
        if self.account(request) is None:
            return _error(401, "not authenticated")
        try:
            return _ok(document())
        except _Refused as refused:
            return _error(refused.status, refused.message)

    def _queue(self, record_id: str, webhook: object) -> None:
        self._pending.setdefault(record_id, []).append(orjson.dumps(webhook))

    @abstractmethod
    def _records(self) -> dict[str, Any]: ...

    @abstractmethod
    def _stub(self, record_id: str) -> None: ...


class _Listener:
    """uvicorn on a fixed port that can be stopped (connection refused) and started again."""

    def __init__(self, app: FastAPI, host: str, port: int) -> None:
        self.app, self.host, self.port = app, host, port
        self._server: uvicorn.Server | None = None
        self._task: asyncio.Task[None] | None = None
        self._sock: socket.socket | None = None

    @property
    def running(self) -> bool:
        return self._server is not None

    async def start(self) -> None:
        sock = socket.create_server((self.host, self.port))  # SO_REUSEADDR on POSIX
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(
            self.app,
            log_level="warning",
            lifespan="off",
            access_log=False,
            timeout_graceful_shutdown=1,
        )
        server = _QuietServer(config)
        task = asyncio.create_task(server.serve(sockets=[sock]))
        while not server.started:
            if task.done():
                sock.close()
                task.result()
                raise RuntimeError("the fake API did not start")
            await asyncio.sleep(0.01)
        self._server, self._task, self._sock = server, task, sock

    async def stop(self) -> None:
        if self._server is None or self._task is None or self._sock is None:
            return
        self._server.should_exit = True
        await self._task
        self._sock.close()
        self._server = self._task = self._sock = None


class _QuietServer(uvicorn.Server):
    """No signal handlers: the test or the demo stops it."""

    @contextlib.contextmanager
    def capture_signals(self) -> Any:
        yield


# --- ServiceNow ------------------------------------------------------------------------------

_SN_WRITABLE = frozenset(
    {
        "comments",
        "work_notes",
        "state",
        "hold_reason",
        "close_code",
        "close_notes",
        "impact",
        "urgency",
        "correlation_id",
        "correlation_display",
    }
)
_SN_PRIORITY = {
    ("1", "1"): "1",
    ("1", "2"): "2",
    ("1", "3"): "3",
    ("2", "1"): "2",
    ("2", "2"): "3",
    ("2", "3"): "4",
    ("3", "1"): "3",
    ("3", "2"): "4",
    ("3", "3"): "5",
}
_SN_LABELS = {"comments": "Additional comments", "work_notes": "Work notes"}


def _sn_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")


@dataclass
class _Entry:
    field: str
    at: datetime
    author: str
    text: str


@dataclass
class _SnIncident:
    fields: dict[str, str]
    journal: list[_Entry] = field(default_factory=list)


class ServiceNowApi(FakeSupplierApi):
    """A ServiceNow instance with incidents; webhooks are the business rule's record JSON."""

    system = SupplierSystem.SERVICENOW
    label = "ServiceNow"

    def __init__(self, supplier: str, tokens: dict[str, str], **kwargs: Any) -> None:
        super().__init__(supplier, tokens, **kwargs)
        self.incidents: dict[str, _SnIncident] = {}
        self._numbers = itertools.count(1)
        path = "/api/now/table/incident/{sys_id}"

        @self.app.get(path)
        async def get(sys_id: str, request: Request) -> Response:
            return await self._read(request, lambda: {"result": self._known(sys_id)})

        @self.app.patch(path)
        async def patch(sys_id: str, request: Request) -> Response:
            return await self._write(sys_id, request, self._patch)

    @property
    def patches(self) -> list[Received]:
        return self.received

    def create_incident(
        self,
        record_id: str,
        number: str,
        *,
        title: str = "Zaaksysteem geeft foutmelding bij opslaan",
        impact: str = "2",
        urgency: str = "2",
        by: str = "jan.devries",
    ) -> Json:
        at = self.now()
        fields = {
            "sys_id": record_id,
            "sys_class_name": "incident",
            "number": number,
            "short_description": title,
            "description": "Gebruikers kunnen geen zaken opslaan.",
            "category": "software",
            "state": "1",
            "incident_state": "1",
            "hold_reason": "",
            "impact": impact,
            "urgency": urgency,
            "priority": _SN_PRIORITY[(impact, urgency)],
            "close_code": "",
            "close_notes": "",
            "opened_at": _sn_time(at),
            "resolved_at": "",
            "closed_at": "",
            "reopen_count": "0",
            "sys_created_on": _sn_time(at),
            "sys_updated_on": _sn_time(at),
            "sys_updated_by": by,
            "sys_mod_count": "0",
            "correlation_id": "",
            "correlation_display": "",
        }
        self.incidents[record_id] = _SnIncident(fields)
        self._queue(record_id, self.record(record_id))
        return self.record(record_id)

    def supplier_update(self, sys_id: str, *, by: str = "jan.devries", **changes: str) -> None:
        """A change made in the supplier's own tool by one of its agents."""
        try:
            self._patch(sys_id, dict(changes), by)
        except _Refused as refused:
            raise AssertionError(f"the fake refused the supplier's change: {refused}") from None

    def resolve(self, record_id: str) -> None:
        self.supplier_update(
            record_id,
            state="6",
            close_code="Solved (Permanently)",
            close_notes="Index van de zakentabel hersteld.",
        )

    def reopened(self, record_id: str) -> bool:
        fields = self.incidents[record_id].fields
        return fields["state"] in ("1", "2", "3") and int(fields["reopen_count"]) > 0

    def key(self, record_id: str) -> str:
        return self.incidents[record_id].fields["number"]

    def written_text(self, received: Received) -> str:
        return str(received.body.get("comments") or received.body.get("work_notes") or "")

    def record(self, sys_id: str) -> dict[str, str]:
        """The record's raw values, journals as display strings (newest entry first)."""
        incident = self.incidents[sys_id]
        out = dict(incident.fields)
        for name in ("comments", "work_notes"):
            entries = [e for e in incident.journal if e.field == name]
            out[name] = "".join(
                f"{e.at.astimezone(_AMSTERDAM):%Y-%m-%d %H:%M:%S} - {e.author} "
                f"({_SN_LABELS[name]})\n{e.text}\n\n"
                for e in reversed(entries)
            )
        return out

    def webhook(self, sys_id: str) -> bytes:
        """The record as the business rule posts it now."""
        return orjson.dumps(self.record(sys_id))

    def _records(self) -> dict[str, Any]:
        return self.incidents

    def _stub(self, record_id: str) -> None:
        self.create_incident(record_id, f"INC{9_000_000 + next(self._numbers):07d}")
        self._pending.pop(record_id, None)

    def _known(self, sys_id: str) -> dict[str, str]:
        if sys_id not in self.incidents:
            raise _Refused(404, "No Record found")
        return self.record(sys_id)

    def _patch(self, sys_id: str, body: Json, account: str) -> Json:
        incident = self.incidents.get(sys_id)
        if incident is None:
            raise _Refused(404, "No Record found")
        if set(body) - _SN_WRITABLE or not all(isinstance(v, str) for v in body.values()):
            raise _Refused(400, "invalid field or value")
        fields = incident.fields
        merged = {**fields, **{k: v for k, v in body.items() if k not in _SN_LABELS}}
        state = merged["state"]
        if state == "6" and not (merged["close_code"] and merged["close_notes"]):
            raise _Refused(400, "resolving needs close_code and close_notes")
        if state == "3" and not merged["hold_reason"]:
            raise _Refused(400, "on hold needs a hold_reason")
        at = self.now()
        old_state = fields["state"]
        for name in _SN_LABELS:
            if body.get(name):
                incident.journal.append(_Entry(name, at, account, body[name]))
        fields.update(merged)
        fields["incident_state"] = state
        fields["priority"] = _SN_PRIORITY[(fields["impact"], fields["urgency"])]
        if state != old_state:
            if old_state in ("6", "7") and state in ("1", "2", "3"):
                fields["reopen_count"] = str(int(fields["reopen_count"]) + 1)
                fields["resolved_at"] = ""
            if state == "6":
                fields["resolved_at"] = _sn_time(at)
            if state == "7":
                fields["closed_at"] = _sn_time(at)
        fields["sys_mod_count"] = str(int(fields["sys_mod_count"]) + 1)
        fields["sys_updated_on"] = _sn_time(at)
        fields["sys_updated_by"] = account
        self._queue(sys_id, self.record(sys_id))
        return {"result": self.record(sys_id)}


# --- TOPdesk ---------------------------------------------------------------------------------

_TD_WRITABLE = frozenset(
    {"action", "actionInvisibleForCaller", "completed", "closed", "priority", "externalNumber"}
)


def _td_time(moment: datetime) -> str:
    """TOPdesk's ``2021-02-11T06:32:36.303+0000``."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "+0000"


def _lookup(name: str) -> Json:
    return {"id": str(uuid.uuid5(uuid.NAMESPACE_URL, name)), "name": name}


class TopdeskApi(FakeSupplierApi):
    """A supplier's TOPdesk with incidents; webhooks carry the incident as the API returns it."""

    system = SupplierSystem.TOPDESK
    label = "TOPdesk"

    def __init__(self, supplier: str, tokens: dict[str, str], **kwargs: Any) -> None:
        super().__init__(supplier, tokens, **kwargs)
        self.incidents: dict[str, Json] = {}
        self._numbers = itertools.count(1)
        path = "/tas/api/incidents/id/{incident_id}"

        @self.app.get(path)
        async def get(incident_id: str, request: Request) -> Response:
            return await self._read(request, lambda: self._known(incident_id))

        @self.app.patch(path)
        async def patch(incident_id: str, request: Request) -> Response:
            return await self._write(incident_id, request, self._patch)

    def create_incident(
        self,
        record_id: str,
        number: str,
        *,
        title: str = "Key2Burgerzaken: foutcode RDA-17 bij aanvraag reisdocument",
        by: str = "Pieter de Groot",
    ) -> Json:
        at = _td_time(self.now())
        self.incidents[record_id] = {
            "id": record_id,
            "status": "secondLine",
            "number": number,
            "request": "Sinds vanochtend kan de balie geen aanvragen afronden.",
            "briefDescription": title,
            "externalNumber": "",
            "category": _lookup("Applicaties"),
            "callType": _lookup("Storing"),
            "priority": _lookup("P3 - Gemiddeld"),
            "onHold": False,
            "onHoldDate": None,
            "operator": {"id": str(uuid.uuid5(uuid.NAMESPACE_URL, by)), "name": by},
            "operatorGroup": _lookup("Applicatiebeheer Burgerzaken"),
            "processingStatus": _lookup("In behandeling"),
            "completed": False,
            "completedDate": None,
            "closed": False,
            "closedDate": None,
            "closureCode": None,
            "callDate": at,
            "creationDate": at,
            "modifier": {"id": str(uuid.uuid5(uuid.NAMESPACE_URL, by)), "name": by},
            "modificationDate": at,
            "progressTrail": [],
        }
        self._queue(record_id, self.incidents[record_id])
        return dict(self.incidents[record_id])

    def supplier_update(
        self, record_id: str, *, by: str = "Pieter de Groot", **changes: Any
    ) -> None:
        """A change in TOPdesk by one of the supplier's operators (any incident field)."""
        incident = self.incidents[record_id]
        incident.update(changes)
        incident["modifier"] = {"id": str(uuid.uuid5(uuid.NAMESPACE_URL, by)), "name": by}
        incident["modificationDate"] = _td_time(self.now())
        self._queue(record_id, incident)

    def resolve(self, record_id: str) -> None:
        at = _td_time(self.now())
        self.supplier_update(
            record_id,
            completed=True,
            completedDate=at,
            closureCode=_lookup("Opgelost"),
            processingStatus=_lookup("Afgemeld"),
        )

    def reopened(self, record_id: str) -> bool:
        incident = self.incidents[record_id]
        return not incident["completed"] and bool(incident["completedDate"])

    def key(self, record_id: str) -> str:
        return str(self.incidents[record_id]["number"])

    def written_text(self, received: Received) -> str:
        return str(received.body.get("action") or "")

    def _records(self) -> dict[str, Any]:
        return self.incidents

    def _stub(self, record_id: str) -> None:
        self.create_incident(record_id, f"I2611 {900 + next(self._numbers):03d}")
        self._pending.pop(record_id, None)

    def _known(self, incident_id: str) -> Json:
        if incident_id not in self.incidents:
            raise _Refused(404, "incident not found")
        return self.incidents[incident_id]

    def _patch(self, incident_id: str, body: Json, account: str) -> Json:
        incident = self._known(incident_id)
        if set(body) - _TD_WRITABLE:
            raise _Refused(400, f"unknown fields: {sorted(set(body) - _TD_WRITABLE)}")
        for name in ("completed", "closed", "actionInvisibleForCaller"):
            if name in body and not isinstance(body[name], bool):
                raise _Refused(400, f"{name} must be true or false")
        if len(str(body.get("externalNumber", ""))) > 60:
            raise _Refused(400, "externalNumber is longer than 60 characters")
        priority = body.get("priority")
        if priority is not None and not (isinstance(priority, dict) and priority.get("name")):
            raise _Refused(400, "priority must be a lookup by name")
        at = self.now()
        stamp = _td_time(at)
        who = {"id": str(uuid.uuid5(uuid.NAMESPACE_URL, account)), "name": account}
        if text := body.get("action"):
            entry = {
                "id": str(uuid.uuid4()),
                "memoText": text,
                "plainText": text,
                "flag": None,
                "invisibleForCaller": bool(body.get("actionInvisibleForCaller")),
                "entryDate": stamp,
                "operator": who,
                "person": None,
            }
            incident["progressTrail"] = [entry, *incident["progressTrail"]]
        if body.get("closed") is True:
            incident.update(closed=True, closedDate=stamp, completed=True)
            incident["completedDate"] = incident["completedDate"] or stamp
        if "completed" in body:
            incident["completed"] = body["completed"]
            if body["completed"]:
                incident["completedDate"] = incident["completedDate"] or stamp
            else:
                incident["closed"] = False
        if priority is not None:
            incident["priority"] = _lookup(str(priority["name"]))
        if "externalNumber" in body:
            incident["externalNumber"] = body["externalNumber"]
        incident["modifier"] = who
        incident["modificationDate"] = stamp
        self._queue(incident_id, incident)
        return incident


# --- Jira ------------------------------------------------------------------------------------

_SITE = "https://zaakplatform.atlassian.net"

#: Transition id -> (status id, name, category key): the fake site's workflow. 31 reopens and
#: 41 closes (the example config's reopen_transition / accept_transition), 51 resolves.
JIRA_TRANSITIONS: dict[str, tuple[str, str, str]] = {
    "31": ("10003", "Work in progress", "indeterminate"),
    "41": ("6", "Closed", "done"),
    "51": ("10006", "Resolved", "done"),
}
_JIRA_OPEN = ("1", "Open", "new")
_JIRA_CATEGORY_IDS = {"new": 2, "indeterminate": 4, "done": 3}


def _jira_time(moment: datetime) -> str:
    local = moment.astimezone(_AMSTERDAM)
    return (
        local.strftime("%Y-%m-%dT%H:%M:%S.")
        + f"{local.microsecond // 1000:03d}"
        + (local.strftime("%z"))
    )


def _jira_user(name: str) -> Json:
    return {"accountId": name, "displayName": name, "active": True, "accountType": "atlassian"}


def _jira_status(status: tuple[str, str, str]) -> Json:
    status_id, name, category = status
    return {
        "id": status_id,
        "name": name,
        "statusCategory": {"id": _JIRA_CATEGORY_IDS[category], "key": category},
    }


class JiraApi(FakeSupplierApi):
    """A Jira Service Management site with incidents (issue type Incident)."""

    system = SupplierSystem.JIRA
    label = "Jira"

    def __init__(self, supplier: str, tokens: dict[str, str], **kwargs: Any) -> None:
        super().__init__(supplier, tokens, **kwargs)
        self.issues: dict[str, Json] = {}
        self._ids = itertools.count(1)

        @self.app.get("/rest/api/3/issue/{issue}")
        async def get(issue: str, request: Request) -> Response:
            return await self._read(request, lambda: self._known(issue))

        @self.app.put("/rest/api/3/issue/{issue}")
        async def put(issue: str, request: Request) -> Response:
            return await self._write(issue, request, self._edit, status=204)

        @self.app.post("/rest/api/3/issue/{issue}/comment")
        async def comment(issue: str, request: Request) -> Response:
            return await self._write(issue, request, self._comment, status=201)

        @self.app.post("/rest/api/3/issue/{issue}/transitions")
        async def transition(issue: str, request: Request) -> Response:
            return await self._write(issue, request, self._transition, status=204)

    def create_incident(
        self,
        record_id: str,
        number: str,
        *,
        title: str = "Documenten uploaden in het zaakdossier geeft een time-out",
        by: str = "Ruben Verhoeven",
    ) -> Json:
        at = self.now()
        self.issues[record_id] = {
            "id": record_id,
            "self": f"{_SITE}/rest/api/3/issue/{record_id}",
            "key": number,
            "fields": {
                "issuetype": {"id": "10004", "name": "Incident", "subtask": False},
                "project": {"id": "10001", "key": number.split("-")[0], "name": "Zaakplatform"},
                "summary": title,
                "description": "Sinds de release van vanochtend melden meerdere afdelingen dit.",
                "status": _jira_status(_JIRA_OPEN),
                "resolution": None,
                "resolutiondate": None,
                "priority": {"id": "3", "name": "Medium"},
                "labels": ["drechtsteden"],
                "reporter": _jira_user("Sanne Bakker"),
                "assignee": _jira_user(by),
                "created": _jira_time(at),
                "updated": _jira_time(at),
                "comment": {"comments": [], "total": 0},
            },
        }
        self._event(record_id, "jira:issue_created", by, at)
        return self.issues[record_id]

    def resolve(self, record_id: str, *, by: str = "Ruben Verhoeven") -> None:
        self._move(record_id, "51", by)

    def reopened(self, record_id: str) -> bool:
        category = self.issues[record_id]["fields"]["status"]["statusCategory"]["key"]
        return category != "done" and self.issues[record_id]["fields"]["resolution"] is None

    def status(self, record_id: str) -> str:
        return str(self.issues[record_id]["fields"]["status"]["name"])

    def key(self, record_id: str) -> str:
        return str(self.issues[record_id]["key"])

    def written_text(self, received: Received) -> str:
        body = received.body.get("body")
        if not isinstance(body, dict):
            return ""
        return "\n\n".join(
            "".join(
                node.get("text", "\n") if node.get("type") == "text" else "\n"
                for node in paragraph.get("content", [])
            )
            for paragraph in body.get("content", [])
        )

    def _records(self) -> dict[str, Any]:
        return self.issues

    def _stub(self, record_id: str) -> None:
        self.create_incident(record_id, f"ZP-{9_000 + next(self._ids)}")
        self._pending.pop(record_id, None)

    def _known(self, issue: str) -> Json:
        if issue not in self.issues:
            raise _Refused(404, "Issue does not exist or you do not have permission to see it.")
        return self.issues[issue]

    def _event(
        self,
        issue: str,
        event: str,
        actor: str,
        at: datetime,
        *,
        changelog: list[Json] | None = None,
        comment: Json | None = None,
    ) -> None:
        document = self.issues[issue]
        document["fields"]["updated"] = _jira_time(at)
        webhook: Json = {
            "timestamp": int(at.timestamp() * 1000),
            "webhookEvent": event,
            "issue": orjson.loads(orjson.dumps(document)),
        }
        if comment is not None:
            webhook["comment"] = comment
        else:
            webhook["user"] = _jira_user(actor)
            webhook["issue_event_type_name"] = (
                "issue_created" if event == "jira:issue_created" else "issue_generic"
            )
        if changelog:
            webhook["changelog"] = {"id": str(next(self._ids)), "items": changelog}
        self._queue(issue, webhook)

    def _move(self, issue: str, transition_id: str, actor: str) -> None:
        fields = self._known(issue)["fields"]
        target = JIRA_TRANSITIONS.get(transition_id)
        if target is None:
            raise _Refused(400, f"Transition id '{transition_id}' is not valid for this issue.")
        before = fields["status"]
        at = self.now()
        fields["status"] = _jira_status(target)
        items = [
            {
                "field": "status",
                "fieldId": "status",
                "from": before["id"],
                "fromString": before["name"],
                "to": target[0],
                "toString": target[1],
            }
        ]
        had = fields["resolution"]
        if target[2] == "done":
            fields["resolution"] = {"id": "10000", "name": "Done"}
            fields["resolutiondate"] = _jira_time(at)
        else:
            fields["resolution"] = None
            fields["resolutiondate"] = None
        if (had is None) != (fields["resolution"] is None):
            items.append(
                {
                    "field": "resolution",
                    "fieldId": "resolution",
                    "from": had and had["id"],
                    "fromString": had and had["name"],
                    "to": fields["resolution"] and fields["resolution"]["id"],
                    "toString": fields["resolution"] and fields["resolution"]["name"],
                }
            )
        self._event(issue, "jira:issue_updated", actor, at, changelog=items)

    def _transition(self, issue: str, body: Json, account: str) -> None:
        transition = body.get("transition")
        if not isinstance(transition, dict) or not isinstance(transition.get("id"), str):
            raise _Refused(400, "transition.id is required")
        self._move(issue, transition["id"], account)

    def _edit(self, issue: str, body: Json, account: str) -> None:
        fields = self._known(issue)["fields"]
        update = body.get("fields")
        if not isinstance(update, dict) or set(update) != {"priority"}:
            raise _Refused(400, "only fields.priority can be set on this screen")
        name = update["priority"].get("name") if isinstance(update["priority"], dict) else None
        if name not in ("Highest", "High", "Medium", "Low", "Lowest"):
            raise _Refused(400, f"priority {name!r} does not exist")
        before = fields["priority"]["name"]
        fields["priority"] = {
            "id": str(1 + ["Highest", "High", "Medium", "Low"].index(name))
            if name != "Lowest"
            else "5",
            "name": name,
        }
        item = {"field": "priority", "fromString": before, "toString": name}
        self._event(issue, "jira:issue_updated", account, self.now(), changelog=[item])

    def _comment(self, issue: str, body: Json, account: str) -> Json:
        fields = self._known(issue)["fields"]
        document = body.get("body")
        if not (isinstance(document, dict) and document.get("type") == "doc"):
            raise _Refused(400, "Comment body is not valid: an ADF document is required")
        internal = any(
            p.get("key") == "sd.public.comment" and (p.get("value") or {}).get("internal")
            for p in body.get("properties") or []
            if isinstance(p, dict)
        )
        at = self.now()
        comment = {
            "id": str(10_000 + next(self._ids)),
            "self": f"{_SITE}/rest/api/3/issue/{issue}/comment",
            "author": _jira_user(account),
            "updateAuthor": _jira_user(account),
            "body": document,
            "created": _jira_time(at),
            "updated": _jira_time(at),
            "jsdPublic": not internal,
        }
        fields["comment"]["comments"].append(comment)
        fields["comment"]["total"] = len(fields["comment"]["comments"])
        self._event(issue, "comment_created", account, at, comment=comment)
        return comment


# --- Xurrent ---------------------------------------------------------------------------------

_XR_WRITABLE = frozenset({"note", "internal_note", "status", "impact", "completion_reason"})
_XR_STATUSES = frozenset(
    {
        "declined",
        "on_backlog",
        "assigned",
        "accepted",
        "in_progress",
        "waiting_for",
        "waiting_for_customer",
        "reservation_pending",
        "workflow_pending",
        "project_pending",
        "completed",
    }
)
_XR_IMPACTS = frozenset({"low", "medium", "high", "top"})


def _xr_time(moment: datetime) -> str:
    return moment.astimezone(_AMSTERDAM).isoformat(timespec="seconds")


class XurrentApi(FakeSupplierApi):
    """A Xurrent (4me) account with requests; webhooks are ``request.*`` envelopes."""

    system = SupplierSystem.XURRENT
    label = "Xurrent"

    def __init__(
        self, supplier: str, tokens: dict[str, str], *, account_id: str = "", **kwargs: Any
    ) -> None:
        super().__init__(supplier, tokens, **kwargs)
        self.account_id = account_id or "werkplekdienst-drechtsteden"
        self.requests: dict[str, Json] = {}
        self.notes: dict[str, list[Json]] = {}
        self._ids = itertools.count(1)

        @self.app.get("/v1/requests/{request_id}")
        async def get(request_id: str, request: Request) -> Response:
            return await self._read(request, lambda: self._known(request_id, request))

        @self.app.get("/v1/requests/{request_id}/notes")
        async def notes(request_id: str, request: Request) -> Response:
            def listed() -> list[Json]:
                self._known(request_id, request)
                return self.notes[request_id]

            return await self._read(request, listed)

        @self.app.patch("/v1/requests/{request_id}")
        async def patch(request_id: str, request: Request) -> Response:
            def apply(rid: str, body: Json, account: str) -> Json:
                return self._patch(rid, body, account, request)

            return await self._write(request_id, request, apply)

    def create_incident(
        self,
        record_id: str,
        number: str = "",
        *,
        title: str = "Outlook start niet op na Windows-update",
        by: str = "Ruud Ĳzerman",
    ) -> Json:
        at = self.now()
        team = {"id": 372, "name": "Servicedesk Werkplek", "account": {"id": self.account_id}}
        self.requests[record_id] = {
            "id": int(record_id),
            "subject": title,
            "category": "incident",
            "impact": "medium",
            "urgent": False,
            "status": "in_progress",
            "team": team,
            "member": {"id": 8529, "name": by, "account": {"id": self.account_id}},
            "requested_by": {"id": 23011, "name": "Sanne Bakker"},
            "source": "self service",
            "created_at": _xr_time(at),
            "updated_at": _xr_time(at),
        }
        self.notes[record_id] = []
        self._event(record_id, "request.create", by)
        return self.requests[record_id]

    def resolve(self, record_id: str, *, by: str = "Ruud Ĳzerman") -> None:
        request = self.requests[record_id]
        previous = request["status"]
        at = self.now()
        request.update(status="completed", completion_reason="solved", completed_at=_xr_time(at))
        request["updated_at"] = _xr_time(at)
        self._event(record_id, "request.status-changed", by, previous_status=previous)

    def reopened(self, record_id: str) -> bool:
        return (
            self.requests[record_id]["status"] != "completed"
            and "completed_at" in (self.requests[record_id])
        )

    def key(self, record_id: str) -> str:
        return record_id

    def written_text(self, received: Received) -> str:
        return str(received.body.get("note") or "")

    def _records(self) -> dict[str, Any]:
        return self.requests

    def _stub(self, record_id: str) -> None:
        if not record_id.isdigit():
            raise _Refused(404, "Not Found")
        self.create_incident(record_id)
        self._pending.pop(record_id, None)

    def _known(self, request_id: str, request: Request | None = None) -> Json:
        if request_id not in self.requests:
            raise _Refused(404, "Not Found")
        wanted = request.headers.get("x-4me-account") if request is not None else None
        if wanted is not None and wanted != self.account_id:
            raise _Refused(401, f"account {wanted!r} is not known here")
        return self.requests[request_id]

    def _event(
        self,
        request_id: str,
        event: str,
        person: str,
        *,
        note: Json | None = None,
        previous_status: str | None = None,
    ) -> None:
        payload = orjson.loads(orjson.dumps(self.requests[request_id]))
        if note is not None:
            payload["note"] = note
        if previous_status is not None:
            payload["previous_status"] = previous_status
        self._queue(
            request_id,
            {
                "webhook_id": 945,
                "account_id": self.account_id,
                "account": f"https://{self.account_id}.xurrent.com",
                "name": f"{event} naar Schakel",
                "event": event,
                "object_id": int(request_id),
                "person_id": 1,
                "person_name": person,
                "instance_name": self.account_id,
                "payload": payload,
            },
        )

    def _patch(self, request_id: str, body: Json, account: str, request: Request) -> Json:
        record = self._known(request_id, request)
        if set(body) - _XR_WRITABLE:
            raise _Refused(422, f"unknown fields: {sorted(set(body) - _XR_WRITABLE)}")
        status = body.get("status")
        if status is not None and status not in _XR_STATUSES:
            raise _Refused(422, f"status {status!r} is not valid")
        if "impact" in body and body["impact"] not in _XR_IMPACTS:
            raise _Refused(422, f"impact {body['impact']!r} is not valid")
        at = self.now()
        note: Json | None = None
        if text := body.get("note"):
            note = {
                "id": 300_000 + next(self._ids),
                "text": text,
                "internal": bool(body.get("internal_note")),
                "person": {"id": 1, "name": account},
                "created_at": _xr_time(at),
            }
            self.notes[request_id].append(note)
        previous = record["status"]
        if status is not None:
            record["status"] = status
        if "impact" in body:
            record["impact"] = body["impact"]
        record["updated_at"] = _xr_time(at)
        if status is not None and status != previous:
            self._event(
                request_id, "request.status-changed", account, note=note, previous_status=previous
            )
        elif note is not None:
            self._event(request_id, "request.note-added", account, note=note)
        else:
            self._event(request_id, "request.update", account)
        return record


_FAKES: dict[SupplierSystem, type[FakeSupplierApi]] = {
    SupplierSystem.SERVICENOW: ServiceNowApi,
    SupplierSystem.TOPDESK: TopdeskApi,
    SupplierSystem.JIRA: JiraApi,
    SupplierSystem.XURRENT: XurrentApi,
}


def fake_for(system: SupplierSystem | str) -> type[FakeSupplierApi]:
    """The fake of ``system`` (KeyError for a mapped supplier: it has no native API)."""
    return _FAKES[SupplierSystem(system)]
