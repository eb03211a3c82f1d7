"""Serving the hub's HTTP services (gateway, replies API) with uvicorn, alone or embedded."""

from __future__ import annotations

import asyncio
import contextlib
import math
import socket
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import uvicorn
from fastapi import FastAPI

__all__ = ["listening", "parse_retry_after", "uvicorn_server"]


class _EmbeddedServer(uvicorn.Server):
    """uvicorn without its own signal handlers: the embedding app stops it."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def uvicorn_server(app: FastAPI, host: str, port: int, *, signals: bool) -> uvicorn.Server:
    """uvicorn as the hub runs it: logs through the hub's logging (no access log: the hot
    path), no server banner, bounded graceful shutdown (the app then flushes its batches)."""
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        log_config=None,
        access_log=False,
        server_header=False,
        lifespan="on",
        timeout_keep_alive=30,
        timeout_graceful_shutdown=15,
    )
    return uvicorn.Server(config) if signals else _EmbeddedServer(config)


@contextlib.asynccontextmanager
async def listening(app: FastAPI, host: str, port: int, *, name: str) -> AsyncIterator[int]:
    """``app`` served from a task of the running loop while inside; yields the port
    (``port=0`` picks a free one). A port in use is an OSError here, not a uvicorn exit."""
    with socket.create_server((host, port)) as sock:
        server = uvicorn_server(app, host, port, signals=False)
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
