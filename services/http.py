"""Serving the hub's HTTP services (gateway, replies API) with uvicorn, alone or embedded.

The doors' common defences live here, once:

* a deadline for a request's line and headers (:class:`HeaderDeadline`; uvicorn has none:
  a client sending one header byte a minute would hold a connection forever);
* forwarded headers (``X-Forwarded-For``, ``-Proto``) believed only from the proxies in
  ``SCHAKEL_HTTP_TRUSTED_PROXIES`` (uvicorn's default trusts them from 127.0.0.1);
* :func:`read_capped`: a request body read in chunks, refused as soon as it passes a limit
  or a deadline, never held whole beyond the limit.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import socket
from collections.abc import AsyncIterable, AsyncIterator, Iterator
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import h11
import uvicorn
from fastapi import FastAPI
from uvicorn.protocols.http.h11_impl import H11Protocol

from services.config import Settings, get_settings

__all__ = [
    "HeaderDeadline",
    "declared_length",
    "listening",
    "parse_retry_after",
    "read_capped",
    "uvicorn_server",
]


class HeaderDeadline(H11Protocol):
    """uvicorn's h11 protocol with a deadline for each request's line and headers.

    The deadline starts with the connection, and again with the first bytes of each next
    request on a kept-alive connection; it ends when h11 has the whole head. A connection
    still sending its head at the deadline is closed. (Idle kept-alive connections are
    uvicorn's own ``timeout_keep_alive``; slow bodies are :func:`read_capped`'s.)
    """

    header_timeout_s: float = 10.0
    _deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def data_received(self, data: bytes) -> None:
        if self._deadline is None and self.conn.their_state is h11.IDLE:
            self._arm()  # a next request begins on a kept-alive connection
        super().data_received(data)
        if self._deadline is not None and self.conn.their_state is not h11.IDLE:
            self._deadline.cancel()  # the head is complete
            self._deadline = None

    def connection_lost(self, exc: Exception | None) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None
        super().connection_lost(exc)

    def _arm(self) -> None:
        self._deadline = self.loop.call_later(self.header_timeout_s, self._too_slow)

    def _too_slow(self) -> None:
        self._deadline = None
        if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
            self.logger.warning(
                "request head not complete within %.0f s; connection closed (client %s)",
                self.header_timeout_s,
                self.client[0] if self.client else "?",
            )
            self.transport.close()


def _protocol(header_timeout_s: float) -> type[HeaderDeadline]:
    return type("HeaderDeadlineH11", (HeaderDeadline,), {"header_timeout_s": header_timeout_s})


class _EmbeddedServer(uvicorn.Server):
    """uvicorn without its own signal handlers: the embedding app stops it."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def uvicorn_server(
    app: FastAPI, host: str, port: int, *, signals: bool, settings: Settings | None = None
) -> uvicorn.Server:
    """uvicorn as the hub runs it: logs through the hub's logging (no access log: the hot
    path), no server banner, bounded graceful shutdown (the app then flushes its batches),
    a deadline for request heads, forwarded headers only from trusted proxies (``settings``,
    default: this process's)."""
    settings = settings or get_settings()
    proxies = settings.trusted_proxies
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        http=_protocol(settings.http_header_timeout_s),
        proxy_headers=bool(proxies),
        forwarded_allow_ips=proxies or None,
        log_config=None,
        access_log=False,
        server_header=False,
        lifespan="on",
        timeout_keep_alive=30,
        timeout_graceful_shutdown=15,
    )
    return uvicorn.Server(config) if signals else _EmbeddedServer(config)


@contextlib.asynccontextmanager
async def listening(
    app: FastAPI, host: str, port: int, *, name: str, settings: Settings | None = None
) -> AsyncIterator[int]:
    """``app`` served from a task of the running loop while inside; yields the port
    (``port=0`` picks a free one). A port in use is an OSError here, not a uvicorn exit."""
    with socket.create_server((host, port)) as sock:
        server = uvicorn_server(app, host, port, signals=False, settings=settings)
        task = asyncio.create_task(server.serve(sockets=[sock]))
        try:
            for _ in range(1000):  # uvicorn starts in milliseconds; give it 10 s
                if server.started or task.done():
                    break
                await asyncio.sleep(0.01)
            if not server.started:
                raise RuntimeError(f"the {name} did not start listening")
            yield sock.getsockname()[1]
        finally:
            server.should_exit = True
            await task


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header: delay-seconds or an HTTP-date (RFC 9110).

    None when absent or unreadable; a date in the past gives 0.
    """
    if value is None:
        return None
    text = value.strip()
    if not text:
        return None
    if text.isdigit():
        return float(int(text))
    try:
        seconds = float(text)  # not RFC, but some servers send "1.5"
    except ValueError:
        pass
    else:
        return seconds if math.isfinite(seconds) and seconds >= 0 else None
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


async def read_capped(
    chunks: AsyncIterable[bytes],
    cap: int,
    timeout_s: float,
    *,
    too_large: Exception,
    too_slow: Exception,
) -> bytes:
    """The whole body, never more than ``cap`` bytes held: ``too_large`` is raised as soon
    as it passes ``cap``, ``too_slow`` when it takes longer than ``timeout_s``."""
    body = bytearray()
    try:
        async with asyncio.timeout(timeout_s):
            async for chunk in chunks:
                if len(body) + len(chunk) > cap:
                    raise too_large
                body += chunk
    except TimeoutError:
        raise too_slow from None
    return bytes(body)


def declared_length(headers: Any) -> int | None:
    """``Content-Length`` as a number; None when absent; ValueError when not a number."""
    text = headers.get("content-length")
    if text is None:
        return None
    if not (text.isascii() and text.isdigit()) or len(text) > 19:
        raise ValueError("Content-Length is not a number")
    return int(text)
