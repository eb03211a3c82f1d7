"""From an HTTP webhook to the Kafka record for its supplier: plain functions, no framework.

The steps, in the order :func:`receive` runs them (cheap refusals first, nothing read from
the body before the caller shows credentials where it can):

1. the supplier in the path must be configured (404) with a usable secret (503);
2. shared-secret suppliers must send a signature or bearer token (401); a bearer token is
   checked before the body is read (403);
3. a ``Content-Length`` above the supplier's limit is refused unread (413); the body is read
   with the limit as a hard cap (413) and a deadline (408);
4. the signature (HMAC over the exact bytes, or over ``<X-Schakel-Timestamp>.<body>`` for a
   supplier with a timestamp window) or the Xurrent JWT is verified (401/403);
5. the body must be JSON (400), unless it is a verified JWT;
5a. a signed request seen before (same verified digest, or same JWT ``jti``) is a replay
   (409, :mod:`services.gateway.replay`);
6. the record: topic ``schakel.inbound.<supplier>`` of the *authenticated* supplier (never
   anything the body says), the original bytes, the key (``X-Schakel-Key`` or the ticket
   reference in the body), metadata headers.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import AsyncIterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

import orjson

from schemas.topics import inbound_topic
from schemas.wire import (
    GATEWAY_CONTENT_TYPE,
    GATEWAY_SUPPLIER,
    RECEIVED_AT,
    REMOTE_ADDR,
    REQUEST_ID,
    VERIFIED,
    Headers,
)
from services import http
from services.config import SchakelConfig
from services.gateway.auth import (
    JwtKey,
    SharedSecret,
    SupplierAuth,
    Unconfigured,
    resolve_credentials,
    verify_bearer,
    verify_hmac,
    verify_xurrent_jwt,
)
from services.gateway.errors import (
    BodyTimeout,
    BodyTooLarge,
    MalformedRequest,
    MissingCredentials,
    Replayed,
    SupplierNotConfigured,
    SupplierNotFound,
)
from services.gateway.replay import DEFAULT_TTL_S, ReplayGuard, replay_key
from services.http import declared_length
from services.messaging import OutboundMessage

__all__ = [
    "GATEWAY_CONTENT_TYPE",
    "GATEWAY_SUPPLIER",
    "KEY_HEADER",
    "PASS_THROUGH",
    "RECEIVED_AT",
    "RECORD_LIMIT",
    "REMOTE_ADDR",
    "REQUEST_ID",
    "TIMESTAMP_HEADER",
    "VERIFIED",
    "Incoming",
    "Method",
    "SupplierGate",
    "build_gates",
    "correlation_id",
    "read_capped",
    "receive",
    "request_id_of",
    "ticket_key",
]

# Headers of the Kafka record (values are bytes): named in schemas.wire (RECEIVED_AT,
# GATEWAY_SUPPLIER, GATEWAY_CONTENT_TYPE, REMOTE_ADDR, REQUEST_ID, VERIFIED). The Xurrent
# translator decodes a JWT body only under VERIFIED ``jwt``.
#: Supplier headers copied onto the record (lower case), when present and printable.
PASS_THROUGH = (
    "x-atlassian-webhook-identifier",
    "x-atlassian-webhook-retry",
    "x-xurrent-delivery",
    "x-request-id",
)
#: Request header naming the record key explicitly.
KEY_HEADER = "x-schakel-key"
#: Request header with the Unix time a timestamp-signing supplier signed with the body.
TIMESTAMP_HEADER = "x-schakel-timestamp"
#: Clock skew allowed on JWT times; a jti is remembered this much beyond its exp.
JWT_LEEWAY_S = 60.0

#: Inbound topics take records up to 8 MiB (schemas.topics); keep room for key and headers.
RECORD_LIMIT = 8 * 1024 * 1024 - 64 * 1024

_SIGNATURE_HEADERS = ("x-hub-signature", "x-schakel-signature")
_PRINTABLE = re.compile(r"[\x20-\x7e]{1,256}")
_KEY = re.compile(r"[\x21-\x7e](?:[\x20-\x7e]{0,254}[\x21-\x7e])?")
_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")

Method = Literal["hmac", "bearer", "jwt"]

#: Where each tool's webhook keeps the ticket reference, most specific first.
_KEY_PATHS: dict[str, tuple[tuple[str, ...], ...]] = {
    "jira": (("issue", "key"), ("issue", "id")),
    "servicenow": (("number",), ("sys_id",), ("result", "number"), ("result", "sys_id")),
    "topdesk": (("number",), ("id",)),
    "xurrent": (("object_id",),),
    "mapped": (("number",), ("key",), ("id",)),
}


@dataclass(frozen=True, slots=True)
class SupplierGate:
    """What the gateway needs of one supplier: its topic, size limit and credential."""

    supplier_id: str
    system: str
    topic: str
    max_bytes: int
    auth: SupplierAuth


@dataclass(frozen=True, slots=True)
class Incoming:
    """An HTTP request as the gateway sees it. ``headers`` answers lower-case names."""

    headers: Mapping[str, str]
    body: AsyncIterable[bytes]
    remote_addr: str | None
    request_id: str
    received_at: datetime


def build_gates(config: SchakelConfig, environ: Mapping[str, str]) -> dict[str, SupplierGate]:
    """Every configured supplier's gate; secrets come from ``environ``."""
    credentials = resolve_credentials(config.suppliers, environ)
    return {
        s.id: SupplierGate(
            supplier_id=s.id,
            system=s.system,
            topic=inbound_topic(s.id),
            max_bytes=min(s.max_payload_bytes, RECORD_LIMIT),
            auth=credentials[s.id],
        )
        for s in config.suppliers
    }


def request_id_of(headers: Mapping[str, str]) -> str:
    """The caller's ``X-Request-Id`` when it is a sane token, else a fresh one."""
    given = headers.get("x-request-id")
    if given is not None and _REQUEST_ID.fullmatch(given):
        return given
    return uuid.uuid4().hex


def correlation_id(headers: Mapping[str, str]) -> str | None:
    """The supplier's delivery id (stable across its retries), for logs."""
    for name in ("x-atlassian-webhook-identifier", "x-xurrent-delivery", "x-request-id"):
        value = headers.get(name)
        if value is not None and _PRINTABLE.fullmatch(value):
            return value
    return None


async def receive(
    gates: Mapping[str, SupplierGate],
    supplier_id: str,
    incoming: Incoming,
    *,
    body_timeout_s: float = 30.0,
    replays: ReplayGuard | None = None,
    now: float | None = None,
) -> OutboundMessage:
    """The record to publish for this webhook, or a :class:`WebhookRefused` subclass.

    With ``replays``, a signed request's proof is reserved there; the caller reports the
    record's fate (``replays.accepted`` / ``replays.forget``). ``now``: Unix time (tests).
    """
    gate = gates.get(supplier_id)
    if gate is None:
        raise SupplierNotFound("no supplier with this id posts webhooks here")
    auth = gate.auth
    if isinstance(auth, Unconfigured):
        raise SupplierNotConfigured(
            "webhook authentication is not configured for this supplier; "
            "the hub's operators have been told",
            retry_after=300,
        )
    headers = incoming.headers
    method = _early_method(auth, headers)
    _check_declared_length(headers, gate.max_bytes)
    body = await read_capped(incoming.body, gate.max_bytes, body_timeout_s)
    clock = time.time() if now is None else now
    document: object
    proof: tuple[str, bytes, float] | None = None
    if isinstance(auth, JwtKey):
        claims = verify_xurrent_jwt(
            body,
            auth.key,
            audience=auth.audience,
            max_lifetime_s=auth.max_lifetime_s,
            leeway_s=JWT_LEEWAY_S,
            now=clock,
        )
        ttl = float(claims["exp"]) - clock + 2 * JWT_LEEWAY_S
        proof = ("jwt", str(claims["jti"]).encode(), ttl)
        document = _webhook_of(claims)
    else:
        if method == "hmac":
            digest = verify_hmac(
                auth.secret,
                body,
                _signature(headers),
                timestamp=headers.get(TIMESTAMP_HEADER),
                window_s=auth.window_s,
                now=clock,
            )
            ttl = 2.0 * auth.window_s if auth.window_s else DEFAULT_TTL_S
            proof = ("hmac", digest, ttl)
        document = _json(body)
    message = OutboundMessage(
        topic=gate.topic,
        value=body,
        key=_key(headers, gate.system, document),
        headers=_record_headers(gate, incoming, method),
    )
    if replays is not None and proof is not None:
        kind, evidence, ttl = proof
        if not replays.reserve(replay_key(gate.supplier_id, kind, evidence), ttl, message):
            raise Replayed("this signed request was received before; it is not stored again")
    return message


def _early_method(auth: SharedSecret | JwtKey, headers: Mapping[str, str]) -> Method:
    if isinstance(auth, JwtKey):
        return "jwt"
    if auth.mode == "hmac":
        if _signature(headers) is None:
            raise MissingCredentials(
                "this supplier signs its webhooks: X-Hub-Signature: sha256=<hex> or "
                "X-Schakel-Signature (a signing secret is never accepted as a bearer token)"
            )
        return "hmac"
    authorization = headers.get("authorization")
    if authorization is None:
        raise MissingCredentials("send Authorization: Bearer <token>")
    verify_bearer(auth.secret, authorization)
    return "bearer"


def _signature(headers: Mapping[str, str]) -> str | None:
    for name in _SIGNATURE_HEADERS:
        value = headers.get(name)
        if value is not None and value.strip():
            return value
    return None


def _check_declared_length(headers: Mapping[str, str], cap: int) -> None:
    try:
        declared = declared_length(headers)
    except ValueError as exc:
        raise MalformedRequest(str(exc)) from None
    if declared is not None and declared > cap:
        raise BodyTooLarge(f"this supplier may send at most {cap} bytes")


async def read_capped(chunks: AsyncIterable[bytes], cap: int, timeout_s: float) -> bytes:
    """The whole body, refused (413) as soon as it passes ``cap`` bytes, or (408) when it
    takes longer than ``timeout_s``; never more than ``cap`` bytes are held."""
    return await http.read_capped(
        chunks,
        cap,
        timeout_s,
        too_large=BodyTooLarge(f"this supplier may send at most {cap} bytes"),
        too_slow=BodyTimeout(f"the body did not arrive within {timeout_s:g} s"),
    )


def _json(body: bytes) -> object:
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        raise MalformedRequest("the body is not valid JSON") from None


def _webhook_of(claims: dict[str, Any]) -> object:
    """The webhook inside verified JWT claims: the ``data`` claim (object or JSON text)."""
    data = claims.get("data")
    if isinstance(data, str):
        try:
            data = orjson.loads(data)
        except orjson.JSONDecodeError:
            data = None
    return data if isinstance(data, dict) else claims


def _key(headers: Mapping[str, str], system: str, document: object) -> bytes | None:
    given = headers.get(KEY_HEADER)
    if given is not None:
        if not _KEY.fullmatch(given):
            raise MalformedRequest("X-Schakel-Key must be 1-256 printable ASCII characters")
        return given.encode("ascii")
    reference = ticket_key(system, document)
    return reference.encode() if reference is not None else None


def ticket_key(system: str, document: object) -> str | None:
    """Best effort: the supplier's ticket reference in a webhook body (Jira issue key,
    ServiceNow number or sys_id, TOPdesk number, Xurrent object_id), else None."""
    for path in _KEY_PATHS.get(system, ()):
        value: object = document
        for step in path:
            value = value.get(step) if isinstance(value, dict) else None
        if isinstance(value, dict):  # ServiceNow {"display_value", "value"}
            value = value.get("value")
        if isinstance(value, bool):
            continue
        if isinstance(value, int):
            value = str(value)
        if isinstance(value, str):
            value = value.strip()
            if value and len(value.encode()) <= 256 and value.isprintable():
                return value
    return None


def _record_headers(gate: SupplierGate, incoming: Incoming, method: Method) -> Headers:
    headers: list[tuple[str, bytes]] = [
        (RECEIVED_AT, incoming.received_at.isoformat(timespec="milliseconds").encode()),
        (GATEWAY_SUPPLIER, gate.supplier_id.encode()),
        (VERIFIED, method.encode()),
        (REQUEST_ID, incoming.request_id.encode()),
    ]
    content_type = incoming.headers.get("content-type")
    if content_type is not None and _PRINTABLE.fullmatch(content_type):
        headers.append((GATEWAY_CONTENT_TYPE, content_type.encode()))
    if incoming.remote_addr:
        headers.append((REMOTE_ADDR, incoming.remote_addr.encode()))
    for name in PASS_THROUGH:
        value = incoming.headers.get(name)
        if value is not None and _PRINTABLE.fullmatch(value):
            headers.append((name, value.encode()))
    return tuple(headers)
