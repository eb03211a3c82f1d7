"""Topic names and their settings: part of the public contract (v1).

Keys: the supplier's ticket reference on inbound topics; the hub id on every normalised topic.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from schemas.vocab import EntityKind

__all__ = [
    "AUDIT",
    "CHANGES",
    "CHANGE_FINDINGS",
    "CIS",
    "DEADLETTER",
    "GEMEENTE_PATTERN",
    "INBOUND_PATTERN",
    "INCIDENTS",
    "NORMALISED",
    "NORMALISED_TOPIC",
    "OUTBOUND_PATTERN",
    "REPLIES",
    "SLA",
    "TRIAGE",
    "TopicSpec",
    "gemeente_of_topic",
    "gemeente_topic",
    "inbound_topic",
    "outbound_topic",
    "supplier_of_inbound",
    "supplier_of_outbound",
    "topic_specs",
]

INCIDENTS = "schakel.incidents.v1"
CHANGES = "schakel.changes.v1"
CIS = "schakel.cis.v1"
DEADLETTER = "schakel.deadletter.v1"
REPLIES = "schakel.replies.v1"
SLA = "schakel.sla.v1"
TRIAGE = "schakel.triage.v1"
#: outcomes no other topic carries: deliveries, supplier calls, people's actions (schemas.audit)
AUDIT = "schakel.audit.v1"
#: findings of the change calendar (schemas.changes), keyed by finding id
CHANGE_FINDINGS = "schakel.change-findings.v1"
NORMALISED = (INCIDENTS, CHANGES, CIS)
#: the topic of each kind of normalised event
NORMALISED_TOPIC: Mapping[EntityKind, str] = {
    EntityKind.INCIDENT: INCIDENTS,
    EntityKind.CHANGE: CHANGES,
    EntityKind.CI: CIS,
}

INBOUND_PREFIX = "schakel.inbound."
#: subscription patterns (regular expressions) for the topics of every supplier / gemeente
INBOUND_PATTERN = r"schakel\.inbound\..+"
OUTBOUND_PATTERN = r"schakel\.outbound\..+"
GEMEENTE_PATTERN = r"schakel\.gemeente\..+\.v1"
_INBOUND = re.compile(r"^schakel\.inbound\.([a-z0-9][a-z0-9-]*)$")
_OUTBOUND = re.compile(r"^schakel\.outbound\.([a-z0-9][a-z0-9-]*)$")
_GEMEENTE = re.compile(r"^schakel\.gemeente\.(GM[0-9]{4})\.v1$")

_DAY_MS = 24 * 3600 * 1000


def inbound_topic(supplier: str) -> str:
    return f"{INBOUND_PREFIX}{supplier}"


def outbound_topic(supplier: str) -> str:
    return f"schakel.outbound.{supplier}"


def gemeente_topic(code: str) -> str:
    return f"schakel.gemeente.{code}.v1"


def supplier_of_inbound(topic: str) -> str | None:
    """The supplier id an inbound topic belongs to, or None for any other topic."""
    match = _INBOUND.match(topic)
    return match.group(1) if match else None


def supplier_of_outbound(topic: str) -> str | None:
    """The supplier id an outbound topic belongs to, or None for any other topic."""
    match = _OUTBOUND.match(topic)
    return match.group(1) if match else None


def gemeente_of_topic(topic: str) -> str | None:
    """``GM0505`` for ``schakel.gemeente.GM0505.v1``; None for any other topic."""
    match = _GEMEENTE.match(topic)
    return match.group(1) if match else None


@dataclass(frozen=True)
class TopicSpec:
    name: str
    partitions: int
    config: dict[str, str] = field(default_factory=dict)


def _retention(days: int) -> dict[str, str]:
    return {"cleanup.policy": "delete", "retention.ms": str(days * _DAY_MS)}


def topic_specs(
    suppliers: list[str],
    gemeenten: list[str],
    *,
    partitions: int = 6,
    retention_years: Mapping[str, float] | None = None,
) -> list[TopicSpec]:
    """Every topic the hub needs for this configuration, with explicit settings.

    Normalised topics keep 400 days (Kafka is the system of record and the read model is
    rebuilt from them); the dead letter keeps 30 days and accepts larger records, since it
    holds the original bytes of oversized input; CIs are compacted (latest state per CI).
    The audit topic keeps seven years (the evidence of what the hub did, see
    docs/RETENTION.md). ``retention_years`` overrides the retention of named topics
    (the config's ``feed.retention.topics``); compacted topics keep their policy.
    """
    big = {"max.message.bytes": str(8 * 1024 * 1024)}
    specs = [
        TopicSpec(INCIDENTS, partitions, _retention(400)),
        TopicSpec(CHANGES, partitions, _retention(400)),
        TopicSpec(
            CIS,
            partitions,
            {
                "cleanup.policy": "compact",
                "min.compaction.lag.ms": "60000",
                "segment.ms": str(_DAY_MS),
            },
        ),
        TopicSpec(DEADLETTER, 1, {**_retention(30), **big}),
        TopicSpec(REPLIES, partitions, _retention(400)),
        TopicSpec(SLA, partitions, _retention(400)),
        TopicSpec(TRIAGE, 3, _retention(400)),
        TopicSpec(AUDIT, partitions, _retention(7 * 366)),
        TopicSpec(CHANGE_FINDINGS, 3, _retention(400)),
    ]
    specs += [TopicSpec(inbound_topic(s), partitions, {**_retention(14), **big}) for s in suppliers]
    specs += [TopicSpec(outbound_topic(s), partitions, _retention(30)) for s in suppliers]
    specs += [TopicSpec(gemeente_topic(g), 3, _retention(400)) for g in gemeenten]
    if retention_years:
        specs = [_with_retention(spec, retention_years.get(spec.name)) for spec in specs]
    return specs


def _with_retention(spec: TopicSpec, years: float | None) -> TopicSpec:
    if years is None or spec.config.get("cleanup.policy") != "delete":
        return spec
    days = max(1, round(years * 365.25))
    return TopicSpec(spec.name, spec.partitions, {**spec.config, **_retention(days)})
