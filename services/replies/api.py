"""The replies API (FastAPI): functioneel beheer answers on the tickets routed to it.

Routes (every one but ``/healthz`` needs ``Authorization: Bearer <team token>``):

* ``POST /api/v1/tickets/{hub_id}/replies``: a reply (:class:`~.intake.ReplyBody`), with an
  optional ``Idempotency-Key``. 202 once the broker acknowledged the reply on
  ``schakel.replies.v1``, with its ``reply_id`` and a ``Location`` to follow it; otherwise an
  RFC 9457 problem: 401, 404 (unknown, or not routed to this team), 409 (the ticket's state
  does not allow it), 422 (invalid), 503 with ``Retry-After``.
* ``GET /api/v1/tickets/{hub_id}``: the ticket as the hub knows it, the team's own
  references of it, and the team's replies with what became of them.
* ``GET /api/v1/tickets/{hub_id}/replies/{reply_id}``: one reply of the team: ``accepted``
  (not yet processed), ``applied``, ``published``, ``sending``, ``parked`` (the supplier's
  API is unreachable; retried by itself), ``failed`` or ``refused``.
* ``GET /healthz``.

Which team may act on which ticket is the correlation store's ``correlation_routes``: the
routed events on each gemeente's topic (the public contract), not the router's own tables.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from pydantic import ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from schemas.replies import ReplyEvent
from services.config import SchakelConfig
from services.logs import get_logger
from services.messaging import Publisher
from services.replies.auth import TeamDirectory, TeamIdentity, log_refusal, team_directory
from services.replies.errors import (
    InvalidReply,
    ReplyNotStored,
    ReplyRequestRefused,
    TicketNotFound,
)
from services.replies.intake import (
    IdempotencyLedger,
    ReplyBody,
    check_applicable,
    content_fingerprint,
    make_reply,
    read_body,
    reply_message,
)
from services.tickets import Correlation, CorrelationStore, ReplyRecord

__all__ = ["API_PREFIX", "DEFAULT_SOURCE", "PROBLEM_BASE", "create_app", "problem_response"]

log = get_logger(__name__)

API_PREFIX = "/api/v1"
#: Prefix of the problem ``type`` URIs (RFC 9457); ``.invalid``: never dereferenced.
PROBLEM_BASE = "https://schakel.invalid/problems/"
#: The CloudEvents ``source`` of replies taken here, until the regie's own OIN is configured.
DEFAULT_SOURCE = "urn:nld:kvk:00000000:systeem:schakel-replies"

_PROBLEM = "application/problem+json"
_JSON = "application/json"
_REQUEST_ID_MAX = 128

Clock = Callable[[], datetime]


def _request_id(request: Request) -> str:
    given = request.headers.get("x-request-id", "")
    if 0 < len(given) <= _REQUEST_ID_MAX and given.isprintable() and given.isascii():
        return given
    return uuid.uuid4().hex


def problem_response(exc: ReplyRequestRefused, request_id: str) -> Response:
    headers = {"X-Request-Id": request_id}
    if exc.retry_after is not None:
        headers["Retry-After"] = str(exc.retry_after)
    if exc.status == 401:
        headers["WWW-Authenticate"] = 'Bearer realm="schakel-replies"'
    body: dict[str, Any] = {
        "type": PROBLEM_BASE + exc.slug,
        "title": exc.title,
        "status": exc.status,
        "detail": exc.detail,
        "request_id": request_id,
    }
    if exc.errors:
        body["errors"] = exc.errors
    return Response(
        orjson.dumps(body), status_code=exc.status, media_type=_PROBLEM, headers=headers
    )


def _json(body: Mapping[str, Any], request_id: str, status: int = 200, **headers: str) -> Response:
    return Response(
        orjson.dumps(body),
        status_code=status,
        media_type=_JSON,
        headers={"X-Request-Id": request_id, **headers},
    )


def _reply_view(record: ReplyRecord) -> dict[str, Any]:
    return {
        "reply_id": record.reply_id,
        "action": record.action,
        "status": record.status,
        "steps_done": record.steps_done,
        "steps_total": record.steps_total,
        "error": record.error,
        "created_at": record.created_at,
        "updated_at": record.updated_at,
        "applied_at": record.applied_at,
    }


def create_app(
    config: SchakelConfig,
    store: CorrelationStore,
    publisher: Publisher,
    *,
    source: str = DEFAULT_SOURCE,
    env: Mapping[str, str] | None = None,
    clock: Clock | None = None,
) -> FastAPI:
    """The API for ``config``'s FB teams (tokens read from ``env`` now, once).

    The caller owns ``store`` and ``publisher`` (opens/starts them before, closes after).
    """
    teams: TeamDirectory = team_directory(config, os.environ if env is None else env)
    if not len(teams):
        log.warning("no FB team has a token: the replies API refuses every request")
    now: Clock = clock or (lambda: datetime.now(UTC))
    # no OpenAPI document or docs pages: the API is described in the README, not to strangers
    app = FastAPI(
        title="Schakel replies API", version="1", openapi_url=None, docs_url=None, redoc_url=None
    )
    ledger = IdempotencyLedger()

    def refused(
        exc: ReplyRequestRefused, request: Request, request_id: str, who: TeamIdentity | None
    ) -> Response:
        log_refusal(
            exc,
            who=who,
            remote_addr=request.client.host if request.client else None,
            request_id=request_id,
            method=request.method,
            route=request.url.path[:200],
        )
        return problem_response(exc, request_id)

    async def ticket_for(hub_id: str, who: TeamIdentity) -> Correlation:
        """The ticket if it was routed to ``who``; 404 otherwise (existence is not told)."""
        if await store.is_routed(hub_id, who.gemeente, who.team):
            ticket = await store.correlation(hub_id)
            if ticket is not None:
                return ticket
        raise TicketNotFound(f"no ticket {hub_id} routed to team {who.team} of {who.gemeente}")

    @app.post(API_PREFIX + "/tickets/{hub_id}/replies")
    async def post_reply(hub_id: str, request: Request) -> Response:
        request_id = _request_id(request)
        who: TeamIdentity | None = None
        try:
            who = teams.identify(request.headers.get("authorization"))
            body = _parse_body(await read_body(request.stream(), request.headers))
            key = request.headers.get("idempotency-key")
            reply = make_reply(who, hub_id, body, key, now())
            if key is not None:
                ledger.check(reply.reply_id, content_fingerprint(hub_id, body))
            ticket = await ticket_for(hub_id, who)
            check_applicable(reply, ticket)
            event = ReplyEvent.of(reply, source)
            try:
                await publisher.send_all([reply_message(event, request_id)])
            except Exception as exc:
                log.warning(
                    "reply not acknowledged by the broker",
                    hub_id=hub_id,
                    reply_id=reply.reply_id,
                    correlation_id=request_id,
                    error=repr(exc)[:300],
                )
                raise ReplyNotStored("the broker did not take the reply", retry_after=5) from None
        except ReplyRequestRefused as exc:
            return refused(exc, request, request_id, who)
        log.info(
            "reply accepted",
            hub_id=hub_id,
            reply_id=reply.reply_id,
            correlation_id=request_id,
            gemeente=who.gemeente,
            team=who.team,
            action=reply.action.value,
        )
        location = f"{API_PREFIX}/tickets/{hub_id}/replies/{reply.reply_id}"
        return _json(
            {"status": "accepted", "reply_id": reply.reply_id, "hub_id": hub_id},
            request_id,
            202,
            Location=location,
        )

    @app.get(API_PREFIX + "/tickets/{hub_id}")
    async def get_ticket(hub_id: str, request: Request) -> Response:
        request_id = _request_id(request)
        who: TeamIdentity | None = None
        try:
            who = teams.identify(request.headers.get("authorization"))
            ticket = await ticket_for(hub_id, who)
        except ReplyRequestRefused as exc:
            return refused(exc, request, request_id, who)
        receivers = await store.receiver_refs(hub_id, who.gemeente, who.team)
        replies = await store.replies_of(hub_id, who.gemeente, who.team)
        return _json(
            {
                "hub_id": ticket.hub_id,
                "kind": ticket.kind,
                "title": ticket.title,
                "status": ticket.status,
                "priority": ticket.priority,
                "version": ticket.version,
                "updated_at": ticket.ticket_updated_at,
                "supplier": {
                    "id": ticket.supplier,
                    "system": ticket.system,
                    "number": ticket.number,
                },
                "gemeente": who.gemeente,
                "team": who.team,
                "receiver_refs": [
                    {
                        "channel": r.channel,
                        "receiver_ref": r.receiver_ref,
                        "receiver_number": r.receiver_number,
                    }
                    for r in receivers
                ],
                "replies": [_reply_view(r) for r in replies],
            },
            request_id,
        )

    @app.get(API_PREFIX + "/tickets/{hub_id}/replies/{reply_id}")
    async def get_reply(hub_id: str, reply_id: str, request: Request) -> Response:
        request_id = _request_id(request)
        who: TeamIdentity | None = None
        try:
            who = teams.identify(request.headers.get("authorization"))
            await ticket_for(hub_id, who)
        except ReplyRequestRefused as exc:
            return refused(exc, request, request_id, who)
        record = (await store.replies([reply_id])).get(reply_id)
        if record is None or (record.hub_id, record.gemeente, record.team) != (
            hub_id,
            who.gemeente,
            who.team,
        ):
            # not processed yet (or not this team's): the API cannot tell apart, by design
            view: dict[str, Any] = {"reply_id": reply_id, "status": "accepted"}
        else:
            view = _reply_view(record)
        return _json(view, request_id)

    @app.get("/healthz")
    async def healthz() -> Response:
        return Response(b'{"status":"ok"}', media_type=_JSON)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> Response:
        errors = [{"loc": [str(p) for p in e["loc"]], "msg": e["msg"]} for e in exc.errors()]
        invalid = InvalidReply("the request is not valid", errors=errors)
        return refused(invalid, request, _request_id(request), None)

    @app.exception_handler(StarletteHTTPException)
    async def http_problem(request: Request, exc: StarletteHTTPException) -> Response:
        request_id = _request_id(request)
        log.warning(
            "replies request refused",
            gemeente=None,
            team=None,
            status=exc.status_code,
            problem="about:blank",
            reason=str(exc.detail)[:300],
            remote_addr=request.client.host if request.client else None,
            request_id=request_id,
            method=request.method,
            route=request.url.path[:200],
        )
        body = {
            "type": "about:blank",
            "title": str(exc.detail),
            "status": exc.status_code,
            "request_id": request_id,
        }
        return Response(
            orjson.dumps(body),
            status_code=exc.status_code,
            media_type=_PROBLEM,
            headers=dict(exc.headers or {}),
        )

    return app


def _parse_body(raw: bytes) -> ReplyBody:
    try:
        return ReplyBody.model_validate_json(raw or b"{}")
    except ValidationError as exc:
        errors = [
            {"loc": [str(p) for p in e["loc"]], "msg": e["msg"]}
            for e in exc.errors(include_url=False, include_input=False)
        ]
        raise InvalidReply("the body is not a valid reply", errors=errors) from None
