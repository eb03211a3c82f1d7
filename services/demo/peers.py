"""The other side of the demo, on loopback: the FB teams' webhook inbox (port 8090), their
mail server (aiosmtpd, 8025), Dordrecht's own TOPdesk (the documented incident subset,
8091), and the suppliers' own tools (the API fakes of :mod:`services.demo.supplier_apis` on
the ports of their ``api_base_url``, 8101-8104 in the example). Each prints one line per
ticket or update it receives, so `make demo` shows the whole flow, both ways.

Secrets the example config names by environment variable get demo values when unset.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
from collections.abc import AsyncIterator
from email import message_from_bytes
from typing import Any
from urllib.parse import urlsplit

import orjson
import uvicorn
from aiosmtpd.controller import Controller
from fastapi import FastAPI, Request, Response
from rich.console import Console
from rich.markup import escape

from services.config import EmailChannel, SchakelConfig, TopdeskChannel, WebhookChannel
from services.demo.supplier_apis import FakeSupplierApi, Received, fake_for

__all__ = ["demo_peers", "demo_secrets"]


def demo_secrets(config: SchakelConfig) -> None:
    """Give every secret the config names a demo value, unless the environment has one."""
    names: list[str] = []
    for supplier in config.suppliers:
        names += [
            n
            for n in (supplier.credentials.webhook_secret_env, supplier.credentials.api_token_env)
            if n
        ]
    for gemeente in config.gemeenten:
        for team in gemeente.teams:
            names += [team.api_token_env] if team.api_token_env else []
            for channel in team.channels:
                if isinstance(channel, WebhookChannel):
                    names.append(channel.secret_env)
                elif isinstance(channel, TopdeskChannel):
                    names += [channel.username_env, channel.password_env]
    names += [t.token_env for t in config.feed.tokens]
    names += [config.feed.session_secret_env] if config.feed.session_secret_env else []
    for name in names:
        os.environ.setdefault(name, f"demo-{name.lower()}")


def _inbox(console: Console) -> FastAPI:
    app = FastAPI(title="FB webhook inbox (demo)")

    @app.post("/fb/{gemeente}/{team}")
    async def receive(gemeente: str, team: str, request: Request) -> Response:
        event = orjson.loads(await request.body())
        data = event.get("data", {})
        ticket = data.get("ticket", {})
        ref = ticket.get("supplier_ref", {})
        console.print(
            f"[bold green]FB {gemeente}/{team}[/] <- webhook "
            f"{ref.get('supplier')}/{ref.get('number') or ref.get('record_id')} "
            f"{ticket.get('priority', '')} {ticket.get('status', '')}: "
            f"{escape(str(ticket.get('title', ''))[:60])} [dim](hub {event.get('subject')})[/]"
        )
        return Response(status_code=202)

    return app


def _topdesk(console: Console) -> FastAPI:
    app = FastAPI(title="TOPdesk (demo subset)")
    incidents: dict[str, dict[str, Any]] = {}
    numbers = itertools.count(1)

    @app.post("/tas/api/incidents")
    async def create(request: Request) -> dict[str, Any]:
        body = orjson.loads(await request.body())
        serial = next(numbers)
        record = {
            "id": f"00000000-0000-4000-8000-{serial:012d}",
            "number": f"I2611 {serial:03d}",
            **body,
        }
        incidents[record["id"]] = record
        console.print(
            f"[bold blue]TOPdesk GM0505[/] new incident {record['number']}: "
            f"{str(body.get('briefDescription', ''))[:60]}"
        )
        return record

    @app.patch("/tas/api/incidents/id/{incident_id}")
    async def update(incident_id: str, request: Request) -> Response:
        if incident_id not in incidents:
            return Response(status_code=404)
        incidents[incident_id].update(orjson.loads(await request.body()))
        console.print(f"[blue]TOPdesk GM0505[/] update of {incidents[incident_id]['number']}")
        return Response(content=orjson.dumps(incidents[incident_id]), media_type="application/json")

    @app.get("/tas/api/incidents")
    async def search(query: str = "") -> Response:
        wanted = query.partition("==")[2].strip('"')
        found = [i for i in incidents.values() if wanted and i.get("externalNumber") == wanted]
        if not found:
            return Response(status_code=204)  # TOPdesk answers an empty search with no body
        return Response(content=orjson.dumps(found), media_type="application/json")

    return app


class _Mailbox:
    def __init__(self, console: Console) -> None:
        self.console = console

    async def handle_DATA(self, _server: object, _session: object, envelope: Any) -> str:
        message = message_from_bytes(envelope.content)
        self.console.print(
            f"[bold magenta]mail[/] to {', '.join(envelope.rcpt_tos)}: "
            f"{message.get('Subject', '')[:80]}"
        )
        return "250 OK"


@contextlib.asynccontextmanager
async def _serve(app: FastAPI, port: int) -> AsyncIterator[None]:
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    task = asyncio.create_task(server.serve())
    while not server.started and not task.done():  # noqa: ASYNC110 - uvicorn offers no event
        await asyncio.sleep(0.05)
    try:
        yield
    finally:
        server.should_exit = True
        await task


def _supplier_tools(config: SchakelConfig, console: Console) -> list[tuple[FakeSupplierApi, int]]:
    """A fake of each supplier's tool whose API the config puts on loopback, with its port.
    The integration account's secret is the one the environment holds (demo_secrets)."""

    def show(fake: FakeSupplierApi, received: Received) -> None:
        line = escape(fake.describe(received))
        console.print(f"[bold cyan]{fake.label} {fake.supplier}[/] <- {line}")

    tools: list[tuple[FakeSupplierApi, int]] = []
    for supplier in config.suppliers:
        base = supplier.credentials.api_base_url
        secret_env = supplier.credentials.api_token_env
        if base is None or not secret_env or supplier.system == "mapped":
            continue
        url = urlsplit(str(base))
        if url.hostname not in ("127.0.0.1", "localhost") or url.port is None:
            continue
        tokens = {os.environ[secret_env]: "schakel-integration"}
        fake = fake_for(supplier.system)(supplier.id, tokens, lenient=True, on_update=show)
        tools.append((fake, url.port))
    return tools


@contextlib.asynccontextmanager
async def demo_peers(config: SchakelConfig, console: Console) -> AsyncIterator[None]:
    """Run the FB inbox, mail server, TOPdesk and the suppliers' tools while inside."""
    smtp_ports = {
        c.smtp_port
        for g in config.gemeenten
        for t in g.teams
        for c in t.channels
        if isinstance(c, EmailChannel)
    }
    controllers = [Controller(_Mailbox(console), hostname="127.0.0.1", port=p) for p in smtp_ports]
    for controller in controllers:
        controller.start()
    try:
        async with contextlib.AsyncExitStack() as stack:
            await stack.enter_async_context(_serve(_inbox(console), 8090))
            await stack.enter_async_context(_serve(_topdesk(console), 8091))
            for fake, port in _supplier_tools(config, console):
                await stack.enter_async_context(fake.serving("127.0.0.1", port))
            yield
    finally:
        for controller in controllers:
            controller.stop()
