"""The HTTP doors' common defences (services.http), over a real socket with uvicorn:
a deadline for request heads, forwarded headers only from trusted proxies."""

from __future__ import annotations

import asyncio

import httpx
from fastapi import FastAPI, Request

from services.config import Settings
from services.http import listening


def _echo_app() -> FastAPI:
    app = FastAPI(openapi_url=None)

    @app.get("/who")
    async def who(request: Request) -> dict[str, str | None]:
        return {"client": request.client.host if request.client else None}

    return app


async def _read_all(reader: asyncio.StreamReader, timeout_s: float) -> bytes:
    return await asyncio.wait_for(reader.read(), timeout_s)


async def test_a_slowly_sent_request_head_is_cut_off() -> None:
    settings = Settings(http_header_timeout_s=0.5)
    async with listening(_echo_app(), "127.0.0.1", 0, name="test", settings=settings) as port:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"GET /who HTTP/1.1\r\nHost: x\r\n")  # the head never ends
        await writer.drain()
        # the server closes the connection (EOF) without an answer; the bound here only
        # keeps a regression from hanging the suite
        assert await _read_all(reader, 30) == b""
        writer.close()
        # a complete request on a fresh connection is served, and a kept-alive connection
        # serves a second request after the first one's deadline would have passed
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            assert (await client.get("/who")).status_code == 200
            await asyncio.sleep(0.8)
            assert (await client.get("/who")).status_code == 200


async def test_a_slow_next_request_on_a_kept_alive_connection_is_cut_off_too() -> None:
    settings = Settings(http_header_timeout_s=0.5)
    async with listening(_echo_app(), "127.0.0.1", 0, name="test", settings=settings) as port:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"GET /who HTTP/1.1\r\nHost: x\r\n\r\n")
        await writer.drain()
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 30)
        assert head.startswith(b"HTTP/1.1 200")
        length = int(head.lower().split(b"content-length: ")[1].split(b"\r\n")[0])
        await reader.readexactly(length)
        writer.write(b"GET /who HTTP/1.1\r\n")  # a second head, never finished
        await writer.drain()
        assert await _read_all(reader, 30) == b""
        writer.close()


async def _client_seen(settings: Settings) -> object:
    """The client address the app sees for a request claiming X-Forwarded-For."""
    forged = {"X-Forwarded-For": "198.51.100.23"}
    async with (
        listening(_echo_app(), "127.0.0.1", 0, name="t", settings=settings) as port,
        httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client,
    ):
        return (await client.get("/who", headers=forged)).json()["client"]


async def test_forwarded_headers_count_only_from_configured_proxies() -> None:
    assert await _client_seen(Settings(http_trusted_proxies="")) == "127.0.0.1"
    assert await _client_seen(Settings(http_trusted_proxies="10.0.0.5")) == "127.0.0.1"
    assert await _client_seen(Settings(http_trusted_proxies="127.0.0.1")) == "198.51.100.23"
