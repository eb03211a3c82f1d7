"""The gateway's HTTP app: thin handlers over :mod:`services.gateway.intake`.

Routes:

* ``POST /webhooks/{supplier_id}``: 202 once the broker acknowledged the record on
  ``schakel.inbound.<supplier_id>``; otherwise an RFC 9457 problem (400, 401, 403, 404, 408,
  413, or 503 with ``Retry-After``).
* ``GET /healthz``: the process answers (liveness).
* ``GET /readyz``: the broker answers (readiness), else 503.

Successful requests are not logged (the hot path); every refusal is, up to 30 a minute per
supplier and reason, with the number of similar refusals since.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import os
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime

import orjson
from aiokafka.admin import AIOKafkaAdminClient
from fastapi import FastAPI, Request
from fastapi.responses import Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect

from services.config import SchakelConfig, Settings
from services.gateway.auth import MIN_SECRET_BYTES, JwtKey, SharedSecret, Unconfigured
from services.gateway.batcher import Batcher
from services.gateway.errors import (
    Overloaded,
    SupplierNotFound,
    WebhookNotStored,
    WebhookRefused,
)
from services.gateway.intake import (
    Incoming,
    SupplierGate,
    build_gates,
    correlation_id,
    receive,
    request_id_of,
)
from services.gateway.replay import ReplayGuard
from services.kafka import client_options
from services.logs import get_logger
from services.messaging import Publisher
from services.observability import GATEWAY_REQUESTS

__all__ = ["PROBLEM_BASE", "BrokerProbe", "Readiness", "create_app", "problem_response"]

log = get_logger(__name__)

#: Prefix of the problem ``type`` URIs (RFC 9457); ``.invalid``: never dereferenced.
PROBLEM_BASE = "https://schakel.invalid/problems/"

#: Answers whether the gateway can take webhooks now (``GET /readyz``).
Readiness = Callable[[], Awaitable[bool]]

_PROBLEM = "application/problem+json"
_JSON = "application/json"
_ROUTES = "the gateway serves POST /webhooks/<supplier id>, GET /healthz and GET /readyz"


def create_app(
    settings: Settings,
    config: SchakelConfig,
    publisher: Publisher,
    *,
    readiness: Readiness | None = None,
    batcher: Batcher | None = None,
) -> FastAPI:
    """The gateway for ``config``'s suppliers, publishing through ``publisher``.

    Secrets are read from the environment now, once; a supplier that cannot post is logged
    once at warning. ``readiness`` defaults to a probe of ``settings.kafka_bootstrap``;
    ``batcher`` replaces the default :class:`Batcher` over ``publisher`` (other limits).
    The caller owns ``publisher`` (starts it before, stops it after the app); the app's
    shutdown sends what its batcher still holds.
    """
    gates = build_gates(config, os.environ)
    _report_credentials(config, gates)
    batcher = batcher or Batcher(publisher)
    ready = readiness or BrokerProbe(settings.kafka_bootstrap)
    refusals = _Throttle(60.0)
    replays = ReplayGuard()

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        await batcher.close()

    app = FastAPI(
        title="Schakel webhook gateway",
        lifespan=lifespan,
        openapi_url=None,
        docs_url=None,
        redoc_url=None,
    )

    @app.post("/webhooks/{supplier_id}")
    async def webhook(supplier_id: str, request: Request) -> Response:
        incoming = Incoming(
            headers=request.headers,
            body=request.stream(),
            remote_addr=request.client.host if request.client else None,
            request_id=request_id_of(request.headers),
            received_at=datetime.now(UTC),
        )

        def counted(response: Response) -> Response:
            known = supplier_id if supplier_id in gates else "unknown"
            GATEWAY_REQUESTS.labels(known, str(response.status_code)).inc()
            return response

        try:
            message = await receive(gates, supplier_id, incoming, replays=replays)
            try:
                await batcher.publish(message)
            except BaseException:
                replays.forget(message)  # not stored: the supplier's retry is no replay
                raise
            replays.accepted(message)
        except WebhookRefused as exc:
            _log_refusal(refusals, gates, supplier_id, incoming, exc)
            return counted(problem_response(exc, incoming.request_id))
        except ClientDisconnect:
            return counted(Response(status_code=400))  # nobody is listening any more
        return counted(
            Response(
                orjson.dumps({"status": "accepted", "request_id": incoming.request_id}),
                status_code=202,
                media_type=_JSON,
                headers={"X-Request-Id": incoming.request_id},
            )
        )

    @app.get("/healthz")
    async def healthz() -> Response:
        return Response(b'{"status":"ok"}', media_type=_JSON)

    @app.get("/readyz")
    async def readyz(request: Request) -> Response:
        if await ready():
            return Response(b'{"status":"ready"}', media_type=_JSON)
        exc = WebhookNotStored("the broker does not answer", retry_after=5)
        return problem_response(exc, request_id_of(request.headers))

    @app.exception_handler(StarletteHTTPException)
    async def http_problem(request: Request, exc: StarletteHTTPException) -> Response:
        response = _plain_problem(exc.status_code, str(exc.detail), request_id_of(request.headers))
        response.headers.update(exc.headers or {})  # Allow on 405
        return response

    app.state.batcher = batcher
    return app


def problem_response(exc: WebhookRefused, request_id: str) -> Response:
    """An RFC 9457 problem for a refusal, with ``Retry-After`` where a retry may succeed."""
    headers = {"X-Request-Id": request_id}
    if exc.retry_after is not None:
        headers["Retry-After"] = str(exc.retry_after)
    if exc.status == 401:
        headers["WWW-Authenticate"] = 'Bearer realm="schakel-gateway"'
    body = {
        "type": PROBLEM_BASE + exc.slug,
        "title": exc.title,
        "status": exc.status,
        "detail": exc.detail,
        "request_id": request_id,
    }
    return Response(
        orjson.dumps(body), status_code=exc.status, media_type=_PROBLEM, headers=headers
    )


def _plain_problem(status: int, title: str, request_id: str) -> Response:
    body = {
        "type": "about:blank",
        "title": title,
        "status": status,
        "detail": _ROUTES,
        "request_id": request_id,
    }
    return Response(
        orjson.dumps(body),
        status_code=status,
        media_type=_PROBLEM,
        headers={"X-Request-Id": request_id},
    )


def _report_credentials(config: SchakelConfig, gates: dict[str, SupplierGate]) -> None:
    """Once at start: every supplier that cannot post, and weak or odd credentials."""
    for supplier in config.suppliers:
        auth = gates[supplier.id].auth
        if isinstance(auth, Unconfigured):
            log.warning("supplier cannot post webhooks", supplier=supplier.id, reason=auth.reason)
        elif isinstance(auth, SharedSecret) and len(auth.secret) < MIN_SECRET_BYTES:
            log.warning(
                "webhook secret is short; use at least 32 random bytes",
                supplier=supplier.id,
                length=len(auth.secret),
            )
        elif isinstance(auth, JwtKey) and supplier.system != "xurrent":
            log.warning(
                "signed-JWT webhooks are read only by the Xurrent translator",
                supplier=supplier.id,
                system=supplier.system,
            )


def _log_refusal(
    throttle: _Throttle,
    gates: dict[str, SupplierGate],
    supplier_id: str,
    incoming: Incoming,
    exc: WebhookRefused,
) -> None:
    if isinstance(exc, WebhookNotStored) and not isinstance(exc, Overloaded):
        return  # the batcher logged the failed batch once
    known = supplier_id if supplier_id in gates else None  # never log arbitrary path text
    suppressed = throttle.admit((known or "", exc.slug))
    if suppressed is None:
        return
    log.warning(
        "webhook refused",
        supplier=known,
        status=exc.status,
        problem=exc.slug,
        detail=exc.detail if not isinstance(exc, SupplierNotFound) else None,
        request_id=incoming.request_id,
        correlation_id=correlation_id(incoming.headers),
        remote_addr=incoming.remote_addr,
        similar_refusals_since_last_log=suppressed,
    )


class _Throttle:
    """Every refusal is logged, up to ``burst`` lines per key and interval (a flood cannot
    drown the log); past that, one line when the next interval opens, with the count held
    back."""

    def __init__(self, interval_s: float, burst: int = 30) -> None:
        self._interval_s = interval_s
        self._burst = burst
        self._seen: dict[tuple[str, str], tuple[float, int, int]] = {}

    def admit(self, key: tuple[str, str]) -> int | None:
        """None: stay quiet; else log now, mentioning this many held back since."""
        now = time.monotonic()
        start, logged, held = self._seen.get(key, (-math.inf, 0, 0))
        if now - start >= self._interval_s:
            self._seen[key] = (now, 1, 0)
            return held
        if logged < self._burst:
            self._seen[key] = (start, logged + 1, held)
            return 0
        self._seen[key] = (start, logged, held + 1)
        return None


class BrokerProbe:
    """Readiness: can this process reach the broker? Cached for ``ttl_s``; logs changes."""

    def __init__(self, bootstrap: str, *, ttl_s: float = 5.0, timeout_s: float = 3.0) -> None:
        self._bootstrap = bootstrap
        self._ttl_s = ttl_s
        self._timeout_s = timeout_s
        self._until = -math.inf
        self._ready: bool | None = None
        self._lock = asyncio.Lock()

    async def __call__(self) -> bool:
        async with self._lock:
            if time.monotonic() < self._until and self._ready is not None:
                return self._ready
            ready = await self._reach()
            if ready != self._ready and self._ready is not None:
                log.warning("gateway readiness changed", ready=ready, bootstrap=self._bootstrap)
            self._ready = ready
            self._until = time.monotonic() + self._ttl_s
            return ready

    async def _reach(self) -> bool:
        admin = AIOKafkaAdminClient(
            **client_options(self._bootstrap), request_timeout_ms=int(self._timeout_s * 1000)
        )
        try:
            async with asyncio.timeout(self._timeout_s):
                await admin.start()
            return True
        except Exception:
            return False
        finally:
            with contextlib.suppress(Exception):
                await admin.close()
