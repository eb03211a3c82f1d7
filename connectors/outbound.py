"""The outbound contract (eBonding): a reply from functioneel beheer -> the supplier's request.

Each system's ``connectors/<system>/outbound.py`` has a ``translate_reply(reply, target, ctx)``
that returns the native requests, in order, that carry the reply into the supplier's tool. It is
a pure function (no I/O); the sync service publishes and sends the requests. Everything it
writes is marked so that its echo is recognised by the inbound translator of the same system:
texts start with the supplier's ``schakel_marker``, and the service sends them with the
integration account.

A reply the system cannot take (a Jira reopen without a configured transition, a resolution
on a change) raises :class:`~connectors.errors.UnsupportedPayload` with the reason.

Suppliers on a declarative mapping (``mapped``) have no native write API that Schakel knows;
they get the common reply itself, ``POST replies`` with the reply as JSON.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import import_module
from typing import Any, Literal

from connectors._base import SupplierContext
from connectors.errors import UnsupportedPayload
from schemas import EntityKind, Priority, SupplierRef, SupplierSystem
from schemas.replies import Reply, ReplyAction

__all__ = [
    "Method",
    "NativeRequest",
    "OutboundTranslator",
    "ReplyTarget",
    "option_for_priority",
    "outbound_for",
    "reply_text",
    "require_ticket_kind",
]

Method = Literal["POST", "PUT", "PATCH"]


@dataclass(frozen=True, slots=True)
class NativeRequest:
    """One request to the supplier's API; ``path`` is relative to its ``api_base_url``."""

    method: Method
    path: str
    body: dict[str, Any]
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ReplyTarget:
    """The supplier's record a reply is for: the correlation the hub keeps for the hub id."""

    kind: EntityKind
    ref: SupplierRef


#: ``translate_reply(reply, target, ctx)``: the requests, in order, that apply the reply.
OutboundTranslator = Callable[[Reply, ReplyTarget, SupplierContext], Sequence[NativeRequest]]

_TRANSLATORS: dict[SupplierSystem, str] = {
    SupplierSystem.SERVICENOW: "connectors.servicenow.outbound:translate_reply",
    SupplierSystem.TOPDESK: "connectors.topdesk.outbound:translate_reply",
    SupplierSystem.JIRA: "connectors.jira.outbound:translate_reply",
    SupplierSystem.XURRENT: "connectors.xurrent.outbound:translate_reply",
    SupplierSystem.MAPPED: "connectors.outbound:common_reply",
}

_HEADLINES: dict[ReplyAction, str] = {
    ReplyAction.COMMENT: "Reactie van {who}",
    ReplyAction.REQUEST_INFO: "Verzoek om informatie van {who}",
    ReplyAction.ACCEPT_RESOLUTION: "Oplossing geaccepteerd door {who}",
    ReplyAction.REJECT_RESOLUTION: "Oplossing afgewezen door {who}; het ticket is heropend",
    ReplyAction.RAISE_PRIORITY: "Prioriteit verhoogd naar {priority} door {who}",
}


def outbound_for(system: SupplierSystem) -> OutboundTranslator:
    """The reply translator of ``system`` (imported on first use)."""
    module_name, _, attr = _TRANSLATORS[system].partition(":")
    translator: OutboundTranslator = getattr(import_module(module_name), attr)
    return translator


def reply_text(reply: Reply, marker: str) -> str:
    """The text Schakel writes into the supplier's tool: the marker first (so the echo is
    recognised), a headline saying who answered and what, the reason, then the FB's text."""
    who = f"functioneel beheer {reply.gemeente} ({reply.team})"
    if reply.author:
        who += f", {reply.author}"
    priority = reply.priority.value if reply.priority else ""
    parts = [f"{marker} {_HEADLINES[reply.action].format(who=who, priority=priority)}"]
    if reply.reason and reply.reason.strip():
        parts.append(f"Reden: {reply.reason.strip()}")
    if reply.body.strip():
        parts.append(reply.body.strip())
    return "\n\n".join(parts)


_RESOLUTION_ACTIONS = (ReplyAction.ACCEPT_RESOLUTION, ReplyAction.REJECT_RESOLUTION)


def require_ticket_kind(reply: Reply, target: ReplyTarget) -> None:
    """Refuse what no system takes: replies on CIs, and a resolution verdict on a change."""
    if target.kind not in (EntityKind.INCIDENT, EntityKind.CHANGE):
        raise UnsupportedPayload(f"replies on a {target.kind.value} are not sent to suppliers")
    if reply.action in _RESOLUTION_ACTIONS and target.kind is not EntityKind.INCIDENT:
        raise UnsupportedPayload(f"{reply.action.value} applies to incidents, not to a change")


def option_for_priority(
    ctx: SupplierContext, priority: Priority, defaults: Mapping[Priority, str]
) -> str:
    """The supplier's own value for ``priority``: option ``priority_<P1..P5>``, else the
    connector's default."""
    return ctx.options.get(f"priority_{priority.value}") or defaults[priority]


def common_reply(reply: Reply, target: ReplyTarget, ctx: SupplierContext) -> list[NativeRequest]:
    """A supplier on a declarative mapping: the common reply itself, marked like any other."""
    require_ticket_kind(reply, target)
    body = reply.model_dump(mode="json")
    body["text"] = reply_text(reply, ctx.schakel_marker)
    body["supplier_ref"] = target.ref.model_dump(mode="json")
    return [NativeRequest("POST", "replies", body, {"Content-Type": "application/json"})]
