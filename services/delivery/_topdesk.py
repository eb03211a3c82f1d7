"""The TOPdesk sink: the ticket as an incident in the gemeente's own TOPdesk (REST /tas/api).

First delivery of a ticket to this TOPdesk: ``POST incidents`` with ``briefDescription``
(max 80), ``request`` (the essentials), ``caller`` (Schakel itself, never the supplier's
caller), ``externalNumber`` (max 60: supplier ticket number and hub id, so it is unique)
and the configured ``operatorGroup`` / ``category`` by name. Later updates:
``PATCH incidents/id/{id}`` with an ``action`` (a progress-trail entry).

Crash safety: before creating, the sink asks TOPdesk for an incident with this external
number (``GET incidents?query=externalNumber=="..."``). If the hub crashed after TOPdesk
created the incident but before the store recorded it, that finds it and it is adopted
instead of creating a second one.
"""

from __future__ import annotations

from typing import Any

import httpx

from services.config.models import TopdeskChannel
from services.delivery._http import check_response, env_secret, transport_error
from services.delivery._render import action_text, render_text
from services.delivery.channels import Delivery, Receipt
from services.delivery.errors import ReceiverRejected

__all__ = ["TopdeskSink", "external_number", "incident_request"]

BRIEF_MAX = 80
EXTERNAL_MAX = 60
CALLER_NAME = "Schakel (regie ICT-leveranciers)"


def _clip(text: str, limit: int) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def external_number(delivery: Delivery) -> str:
    """``<supplier number>/<hub id>`` when it fits in 60 characters, else the hub id."""
    number = delivery.routed.ticket.supplier_ref.number
    if number:
        both = f"{number}/{delivery.hub_id}"
        if len(both) <= EXTERNAL_MAX:
            return both
    return delivery.hub_id


def incident_request(delivery: Delivery, config: TopdeskChannel) -> dict[str, Any]:
    """The body of ``POST /tas/api/incidents`` for ``delivery``: pure, no I/O."""
    ticket = delivery.routed.ticket
    number = ticket.supplier_ref.number or ticket.supplier_ref.record_id
    prefix = "Wijziging " if delivery.kind == "change" else ""
    body: dict[str, Any] = {
        "caller": {"dynamicName": CALLER_NAME},
        "briefDescription": _clip(f"{prefix}{number}: {ticket.title}", BRIEF_MAX),
        "request": render_text(delivery),
        "externalNumber": external_number(delivery),
    }
    if config.operator_group:
        body["operatorGroup"] = {"name": config.operator_group}
    if config.category:
        body["category"] = {"name": config.category}
    return body


def _fiql_quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


class TopdeskSink:
    """Creates and updates incidents in one TOPdesk, with basic auth from the environment."""

    def __init__(
        self, config: TopdeskChannel, client: httpx.AsyncClient, *, timeout_s: float = 15.0
    ) -> None:
        self._config = config
        self._client = client
        self._base = str(config.base_url).rstrip("/") + "/"
        self._timeout = httpx.Timeout(timeout_s)

    def _auth(self) -> httpx.BasicAuth:
        what = f"topdesk {self._base}"
        return httpx.BasicAuth(
            env_secret(self._config.username_env, what),
            env_secret(self._config.password_env, what),
        )

    async def _call(self, method: str, path: str, what: str, **kwargs: Any) -> httpx.Response:
        try:
            return await self._client.request(
                method, self._base + path, auth=self._auth(), timeout=self._timeout, **kwargs
            )
        except httpx.HTTPError as error:
            raise transport_error(error, what) from error

    async def deliver(self, delivery: Delivery) -> Receipt:
        if delivery.receiver_ref:
            return await self._update(delivery, delivery.receiver_ref)
        found = await self._find(external_number(delivery))
        if found is not None:
            return Receipt("adopted", found[0], found[1])
        return await self._create(delivery)

    async def _create(self, delivery: Delivery) -> Receipt:
        what = f"topdesk POST {self._base}incidents"
        response = await self._call(
            "POST", "incidents", what, json=incident_request(delivery, self._config)
        )
        check_response(response, what)
        incident = _json_object(response, what)
        incident_id = incident.get("id")
        if not isinstance(incident_id, str) or not incident_id:
            raise ReceiverRejected(f"{what}: the answer has no incident id")
        number = incident.get("number")
        return Receipt("created", incident_id, number if isinstance(number, str) else None)

    async def _update(self, delivery: Delivery, incident_id: str) -> Receipt:
        what = f"topdesk PATCH {self._base}incidents/id/{incident_id}"
        response = await self._call(
            "PATCH",
            f"incidents/id/{incident_id}",
            what,
            json={"action": action_text(delivery), "actionInvisibleForCaller": False},
        )
        check_response(response, what)
        number = _json_object(response, what).get("number") if response.content else None
        return Receipt("updated", incident_id, number if isinstance(number, str) else None)

    async def _find(self, external: str) -> tuple[str, str | None] | None:
        """The (id, number) of the incident with this external number, if TOPdesk has one."""
        what = f"topdesk GET {self._base}incidents"
        response = await self._call(
            "GET",
            "incidents",
            what,
            params={"query": f"externalNumber=={_fiql_quote(external)}", "fields": "id,number"},
        )
        check_response(response, what)
        if response.status_code == 204 or not response.content:
            return None  # TOPdesk answers an empty list with 204 No Content
        try:
            found = response.json()
        except ValueError:
            raise ReceiverRejected(f"{what}: the answer is not JSON") from None
        if not isinstance(found, list) or not found:
            return None
        first = found[0]
        if not isinstance(first, dict) or not isinstance(first.get("id"), str):
            raise ReceiverRejected(f"{what}: an incident without id in the answer")
        number = first.get("number")
        return first["id"], number if isinstance(number, str) else None


def _json_object(response: httpx.Response, what: str) -> dict[str, Any]:
    try:
        value = response.json()
    except ValueError:
        raise ReceiverRejected(f"{what}: the answer is not JSON") from None
    if not isinstance(value, dict):
        raise ReceiverRejected(f"{what}: the answer is not a JSON object")
    return value
