"""Real local peers for the delivery channels: a webhook receiver and a TOPdesk (both served
by uvicorn on a free port of 127.0.0.1) and an SMTP server (aiosmtpd).

The TOPdesk implements the subset of the documented REST API the TopdeskSink uses:
``POST /tas/api/incidents``, ``PATCH /tas/api/incidents/id/{id}``,
``GET /tas/api/incidents/id/{id}``, ``GET /tas/api/incidents?query=externalNumber==".."``
(FIQL; 204 No Content for no match) and ``GET /tas/api/incidents/id/{id}/progresstrail``,
behind basic auth; it refuses unknown fields, a briefDescription over 80 and an
externalNumber over 60 characters, and lookups by unknown names.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import re
import socket
import uuid
from collections import defaultdict, deque
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default as default_policy
from typing import Any

import uvicorn
from aiosmtpd.controller import Controller
from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse

from services.delivery import verify_signature


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@asynccontextmanager
async def serve(app: FastAPI) -> AsyncIterator[str]:
    """Serve ``app`` with uvicorn in this event loop; yields its base URL."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(app, log_level="warning", lifespan="off", access_log=False)
    )
    server.capture_signals = contextlib.nullcontext  # type: ignore[method-assign]  # keep pytest's
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task
        sock.close()


# --- webhook receiver -----------------------------------------------------------------


@dataclass
class Attempt:
    name: str
    headers: dict[str, str]
    body: bytes
    status: int


class WebhookReceiver:
    """FB webhook endpoints ``/hook/{name}`` (one per name in ``secrets``): verify the
    signature, de-duplicate on the Idempotency-Key (409 for a repeat), fail on command."""

    def __init__(self, secrets: dict[str, str] | None = None) -> None:
        self.secrets = secrets or {}
        self.attempts: list[Attempt] = []
        self.accepted: dict[str, dict[str, bytes]] = defaultdict(dict)
        self._planned: dict[str, deque[tuple[int, dict[str, str]]]] = defaultdict(deque)
        self._closed: dict[str, int] = {}
        self.delay_s: dict[str, float] = {}
        self.app = FastAPI()
        self.app.post("/hook/{name}")(self._hook)

    def fail(
        self, name: str, times: int, *, status: int = 500, retry_after: str | None = None
    ) -> None:
        headers = {"Retry-After": retry_after} if retry_after is not None else {}
        self._planned[name].extend([(status, headers)] * times)

    def close(self, name: str, status: int = 503) -> None:
        self._closed[name] = status

    def open(self, name: str) -> None:
        self._closed.pop(name, None)

    def attempts_of(self, name: str) -> list[Attempt]:
        return [a for a in self.attempts if a.name == name]

    async def _hook(self, name: str, request: Request) -> Response:
        body = await request.body()
        headers = {k.lower(): v for k, v in request.headers.items()}
        status, extra = self._decide(name, body, headers)
        self.attempts.append(Attempt(name, headers, body, status))
        if name in self.delay_s:
            await asyncio.sleep(self.delay_s[name])
        return Response(status_code=status, headers=extra, content=b"")

    def _decide(
        self, name: str, body: bytes, headers: dict[str, str]
    ) -> tuple[int, dict[str, str]]:
        secret = self.secrets.get(name)
        if secret is None:
            return 404, {}  # no such endpoint
        if not verify_signature(body, secret, headers.get("x-schakel-signature")):
            return 401, {}
        if name in self._closed:
            return self._closed[name], {}
        if self._planned[name]:
            return self._planned[name].popleft()
        key = headers.get("idempotency-key", "")
        if key in self.accepted[name]:
            return 409, {}
        self.accepted[name][key] = body
        return 202, {}


# --- TOPdesk ---------------------------------------------------------------------------

_FIELDS = {
    "caller",
    "callerLookup",
    "briefDescription",
    "request",
    "externalNumber",
    "operatorGroup",
    "category",
    "subcategory",
    "status",
    "impact",
    "urgency",
    "priority",
    "callType",
    "entryType",
    "action",
    "actionInvisibleForCaller",
}
_FIQL_EQ = re.compile(r'^(\w+)=="((?:[^"\\]|\\.)*)"$')


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse([{"message": message}], status_code=status)


@dataclass
class FakeTopdesk:
    """An in-memory TOPdesk with the documented incident API subset."""

    username: str
    password: str
    operator_groups: tuple[str, ...] = ("Functioneel beheer Zaken",)
    categories: tuple[str, ...] = ("Applicaties",)
    incidents: dict[str, dict[str, Any]] = field(default_factory=dict)
    actions: dict[str, list[dict[str, Any]]] = field(default_factory=lambda: defaultdict(list))
    calls: list[tuple[str, str]] = field(default_factory=list)
    fail_next: deque[int] = field(default_factory=deque)

    def __post_init__(self) -> None:
        self.app = FastAPI()
        base = "/tas/api/incidents"
        self.app.post(base)(self._create)
        self.app.get(base)(self._list)
        self.app.get(base + "/id/{incident_id}")(self._get)
        self.app.patch(base + "/id/{incident_id}")(self._patch)
        self.app.get(base + "/id/{incident_id}/progresstrail")(self._trail)

    def _denied(self, request: Request) -> Response | None:
        self.calls.append((request.method, request.url.path))
        expected = base64.b64encode(f"{self.username}:{self.password}".encode()).decode()
        if request.headers.get("authorization") != f"Basic {expected}":
            return _error(401, "Unauthorized")
        if self.fail_next:
            return _error(self.fail_next.popleft(), "temporarily unavailable")
        return None

    async def _create(self, request: Request) -> Response:
        if (denied := self._denied(request)) is not None:
            return denied
        body = await request.json()
        unknown = set(body) - _FIELDS
        if unknown:
            return _error(400, f"unknown fields: {sorted(unknown)}")
        if "caller" not in body and "callerLookup" not in body:
            return _error(400, "caller or callerLookup is required")
        if len(body.get("briefDescription", "")) > 80:
            return _error(400, "briefDescription is longer than 80 characters")
        if len(body.get("externalNumber", "")) > 60:
            return _error(400, "externalNumber is longer than 60 characters")
        for name, known in (("operatorGroup", self.operator_groups), ("category", self.categories)):
            if name in body and body[name].get("name") not in known:
                return _error(400, f"{name} '{body[name].get('name')}' not found")
        now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.000+0000")
        incident_id = str(uuid.uuid4())
        incident = {
            "id": incident_id,
            "number": f"I{datetime.now(UTC):%y%m} {len(self.incidents) + 1:03d}",
            "status": "firstLine",
            "briefDescription": body.get("briefDescription", ""),
            "request": body.get("request", ""),
            "externalNumber": body.get("externalNumber", ""),
            "caller": {"dynamicName": body.get("caller", {}).get("dynamicName")},
            "operatorGroup": body.get("operatorGroup"),
            "category": body.get("category"),
            "creationDate": now,
            "modificationDate": now,
        }
        self.incidents[incident_id] = incident
        return JSONResponse(incident, status_code=201)

    async def _list(self, request: Request, query: str | None = None) -> Response:
        if (denied := self._denied(request)) is not None:
            return denied
        found = list(self.incidents.values())
        if query:
            match = _FIQL_EQ.match(query)
            if match is None:
                return _error(400, f"unsupported query {query!r}")
            name, value = match.group(1), re.sub(r"\\(.)", r"\1", match.group(2))
            found = [i for i in found if i.get(name) == value]
        if not found:
            return Response(status_code=204)
        return JSONResponse(found)

    async def _get(self, incident_id: str, request: Request) -> Response:
        if (denied := self._denied(request)) is not None:
            return denied
        incident = self.incidents.get(incident_id)
        return JSONResponse(incident) if incident else _error(404, "incident not found")

    async def _patch(self, incident_id: str, request: Request) -> Response:
        if (denied := self._denied(request)) is not None:
            return denied
        incident = self.incidents.get(incident_id)
        if incident is None:
            return _error(404, "incident not found")
        body = await request.json()
        unknown = set(body) - _FIELDS
        if unknown:
            return _error(400, f"unknown fields: {sorted(unknown)}")
        if body.get("action"):
            self.actions[incident_id].append(
                {
                    "id": str(uuid.uuid4()),
                    "memoText": body["action"],
                    "plainText": body["action"],
                    "invisibleForCaller": bool(body.get("actionInvisibleForCaller", False)),
                    "entryDate": datetime.now(UTC).isoformat(),
                }
            )
        incident["modificationDate"] = datetime.now(UTC).isoformat()
        return JSONResponse(incident)

    async def _trail(self, incident_id: str, request: Request) -> Response:
        if (denied := self._denied(request)) is not None:
            return denied
        return JSONResponse(self.actions.get(incident_id, []))


# --- SMTP ------------------------------------------------------------------------------


class MailCatcher:
    """aiosmtpd handler keeping every accepted message; replies can be scripted."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self.data_replies: deque[str] = deque()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.data_replies:
            return self.data_replies.popleft()
        message = message_from_bytes(envelope.content, policy=default_policy)
        assert isinstance(message, EmailMessage)
        self.messages.append(message)
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 Message accepted for delivery"


@contextmanager
def smtp_server() -> Iterator[tuple[MailCatcher, int]]:
    """An aiosmtpd server on 127.0.0.1 and a free port, in its own thread."""
    catcher = MailCatcher()
    port = free_port()
    controller = Controller(catcher, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield catcher, port
    finally:
        controller.stop()
