"""The supplier API fakes (services.demo.supplier_apis) served on loopback: what they accept,
what they refuse, outages (connection refused, 503) and recovery, and the webhooks they queue
being read by the real connector of their system (an echo when Schakel wrote the change)."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import orjson
import pytest
from rich.console import Console

from connectors import InboundRecord, translator_for
from connectors._base import SupplierContext
from schemas import SupplierSystem
from services.config import SchakelConfig
from services.demo.peers import _supplier_tools
from services.demo.supplier_apis import FakeSupplierApi, Received, fake_for

TOKEN = "fake-api-token-0123456789"
HEADERS = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}

#: Per system: the API root, a record id, a number, and one write the sync service makes.
CASES: dict[SupplierSystem, tuple[str, str, str, str, str, dict[str, Any]]] = {
    SupplierSystem.SERVICENOW: (
        "/",
        uuid.uuid4().hex,
        "INC0001001",
        "PATCH",
        "api/now/table/incident/{id}",
        {"comments": "[schakel] Reactie van functioneel beheer\n\nGraag spoed."},
    ),
    SupplierSystem.TOPDESK: (
        "/tas/api/",
        str(uuid.uuid4()),
        "I2611 001",
        "PATCH",
        "incidents/id/{id}",
        {"action": "[schakel] Reactie van functioneel beheer", "actionInvisibleForCaller": False},
    ),
    SupplierSystem.JIRA: (
        "/rest/api/3/",
        "21001",
        "ZP-1001",
        "POST",
        "issue/{id}/comment",
        {
            "body": {
                "type": "doc",
                "version": 1,
                "content": [
                    {
                        "type": "paragraph",
                        "content": [{"type": "text", "text": "[schakel] Reactie van fb"}],
                    }
                ],
            },
            "properties": [{"key": "sd.public.comment", "value": {"internal": False}}],
        },
    ),
    SupplierSystem.XURRENT: (
        "/v1/",
        "71001",
        "71001",
        "PATCH",
        "requests/{id}",
        {"note": "[schakel] Reactie van functioneel beheer", "internal_note": False},
    ),
}
SYSTEMS = pytest.mark.parametrize("system", list(CASES), ids=lambda s: s.value)


def make(system: SupplierSystem, **kwargs: Any) -> FakeSupplierApi:
    return fake_for(system)(f"test-{system.value}", {TOKEN: "schakel-integration"}, **kwargs)


async def write(
    client: httpx.AsyncClient, system: SupplierSystem, record_id: str, **overrides: Any
) -> httpx.Response:
    _, _, _, method, path, body = CASES[system]
    return await client.request(
        method,
        path.format(id=record_id),
        content=orjson.dumps(overrides.get("body", body)),
        headers=overrides.get("headers", HEADERS),
    )


def read(fake: FakeSupplierApi, body: bytes) -> Any:
    ctx = SupplierContext(fake.supplier, fake.system, f"urn:test:{fake.supplier}")
    [translation] = translator_for(ctx).translate(InboundRecord(body, b"k"))
    return translation.entity


@SYSTEMS
async def test_a_write_lands_and_its_webhook_is_an_echo(system: SupplierSystem) -> None:
    root, record_id, number, *_ = CASES[system]
    fake = make(system)
    fake.create_incident(record_id, number)
    [created] = fake.webhooks(record_id)
    entity = read(fake, created)
    assert entity.hub_id == fake.hub_id(record_id)
    assert not entity.origin.by_schakel
    async with fake.serving() as url, httpx.AsyncClient(base_url=url + root) as client:
        response = await write(client, system, record_id)
        assert response.status_code in (200, 201, 204), response.text
    [received] = fake.accepted(record_id)
    assert received.account == "schakel-integration"
    assert fake.written_text(received).startswith("[schakel] Reactie")
    [echo] = fake.webhooks(record_id)
    assert read(fake, echo).origin.by_schakel  # Schakel's own change comes back as an echo
    fake.resolve(record_id)
    [resolved] = fake.webhooks(record_id)
    entity = read(fake, resolved)
    assert entity.status.value == "resolved" and not entity.origin.by_schakel


@SYSTEMS
async def test_refusals_are_recorded_with_their_status(system: SupplierSystem) -> None:
    root, record_id, number, *_ = CASES[system]
    fake = make(system)
    fake.create_incident(record_id, number)
    async with fake.serving() as url, httpx.AsyncClient(base_url=url + root) as client:
        unauthenticated = await write(
            client, system, record_id, headers={"Authorization": "Bearer wrong"}
        )
        unknown = await write(client, system, "999999")
        bad_field = await write(client, system, record_id, body={"no_such_field": "x"})
    assert unauthenticated.status_code == 401
    assert unknown.status_code == 404
    assert bad_field.status_code in (400, 422)
    assert [r.status for r in fake.received] == [401, 404, bad_field.status_code]
    assert fake.accepted() == []


@SYSTEMS
async def test_outages_refused_and_503_then_back(system: SupplierSystem) -> None:
    root, record_id, number, *_ = CASES[system]
    fake = make(system)
    fake.create_incident(record_id, number)
    async with fake.serving() as url, httpx.AsyncClient(base_url=url + root) as client:
        await fake.go_down("refused")
        with pytest.raises(httpx.ConnectError):
            await write(client, system, record_id)
        await fake.come_back()
        await fake.go_down(503)
        assert (await write(client, system, record_id)).status_code == 503
        await fake.come_back()
        fake.fail(1, status=429, retry_after="7")
        limited = await write(client, system, record_id)
        assert (limited.status_code, limited.headers["retry-after"]) == (429, "7")
        assert (await write(client, system, record_id)).status_code in (200, 201, 204)
    assert [r.status for r in fake.received][-2] == 429
    assert len(fake.accepted(record_id)) == 1


def test_the_demo_serves_a_tool_per_supplier_api_and_prints_each_update(
    example_config: SchakelConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    for supplier in example_config.suppliers:
        if supplier.credentials.api_token_env:
            monkeypatch.setenv(supplier.credentials.api_token_env, TOKEN)
    console = Console(record=True, width=300)
    tools = _supplier_tools(example_config, console)
    assert {(fake.system.value, port) for fake, port in tools} == {
        ("servicenow", 8101),
        ("topdesk", 8102),
        ("jira", 8103),
        ("xurrent", 8104),
    }
    fake = next(f for f, _ in tools if f.system is SupplierSystem.SERVICENOW)
    assert fake.lenient and fake.on_update is not None
    received = Received(
        "abc", "PATCH", "/api/now/table/incident/abc", {"comments": "[schakel] Hallo"}, "s", 200, {}
    )
    fake.create_incident("abc", "INC0000001")
    fake.on_update(fake, received)
    line = console.export_text()
    assert (
        "ServiceNow kpn <- INC0000001: PATCH /api/now/table/incident/abc: [schakel] Hallo" in line
    )
