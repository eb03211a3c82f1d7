"""Who may do what on the broker: Kafka ACLs generated from the hub config.

One source of truth: the suppliers and gemeenten of ``config/schakel.yaml`` and the topics
of :mod:`schemas.topics` give every principal exactly what it needs, nothing else
(``allow.everyone.if.no.acl.found=false`` on the broker denies the rest):

============================ ===============================================================
principal                    may
============================ ===============================================================
``supplier-<id>``            write ``schakel.inbound.<id>``; read ``schakel.outbound.<id>``
                             with consumer groups ``supplier-<id>.*``
``gemeente-<code>``          read ``schakel.gemeente.<code>.v1`` with groups
                             ``gemeente-<code>.*`` (the code in lower case: gemeente-gm0505)
``schakel-<service>``        read and write the topics its service uses (:data:`SERVICES`),
                             with the groups ``schakel-<service>*``
``admin`` (super user)       everything: creates topics, applies these ACLs, runs the tools
============================ ===============================================================

Writing a topic also lets a principal use the idempotent producer (Kafka 2.8+, KIP-679), so
no cluster-wide right is granted to anyone. Principal names are the SCRAM user names
(``User:<name>``); :func:`principals` lists them for creating the users.

:func:`plan` computes the bindings; :func:`describe` reads those on the broker;
:func:`apply` creates the missing ones (and, with ``prune``, deletes bindings of the hub's
principals that the plan no longer has). aiokafka 0.14's admin client has no ACL methods,
so the three requests (CreateAcls, DescribeAcls, DeleteAcls) are sent with aiokafka's own
request classes over its client.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from aiokafka.client import AIOKafkaClient
from aiokafka.errors import KafkaConnectionError
from aiokafka.protocol.admin import CreateAclsRequest, DeleteAclsRequest, DescribeAclsRequest

from schemas.topics import (
    AUDIT,
    CHANGE_FINDINGS,
    CHANGES,
    CIS,
    DEADLETTER,
    INCIDENTS,
    NORMALISED,
    REPLIES,
    SLA,
    TRIAGE,
    gemeente_topic,
    inbound_topic,
    outbound_topic,
)
from services.config import KafkaSecurity, SchakelConfig
from services.errors import BrokerUnavailable, SchakelError
from services.kafka import client_options

__all__ = [
    "SERVICES",
    "AclBinding",
    "AclError",
    "Applied",
    "Operation",
    "PatternType",
    "ResourceType",
    "apply",
    "describe",
    "gemeente_principal",
    "plan",
    "principals",
    "service_principal",
    "supplier_principal",
]


class ResourceType(enum.IntEnum):
    """Kafka's resource types (wire codes)."""

    ANY = 1
    TOPIC = 2
    GROUP = 3
    CLUSTER = 4
    TRANSACTIONAL_ID = 5


class PatternType(enum.IntEnum):
    """How a binding's resource name matches (wire codes)."""

    ANY = 1
    LITERAL = 3
    PREFIXED = 4


class Operation(enum.IntEnum):
    """ACL operations (wire codes); READ and WRITE imply DESCRIBE."""

    ANY = 1
    ALL = 2
    READ = 3
    WRITE = 4
    CREATE = 5
    DELETE = 6
    ALTER = 7
    DESCRIBE = 8
    CLUSTER_ACTION = 9
    DESCRIBE_CONFIGS = 10
    ALTER_CONFIGS = 11
    IDEMPOTENT_WRITE = 12


_ALLOW = 3
_ANY_PERMISSION = 1
#: the principals this module manages (``--prune`` never touches others, such as admin)
_MANAGED_PREFIXES = ("User:supplier-", "User:gemeente-", "User:schakel-")


class AclError(SchakelError):
    """The broker refused to create, describe or delete ACLs (with its error message)."""


@dataclass(frozen=True, order=True)
class AclBinding:
    """One ALLOW rule: ``principal`` may ``operation`` on a resource, from any host."""

    principal: str
    resource_type: ResourceType
    pattern: PatternType
    resource: str
    operation: Operation

    def __str__(self) -> str:
        return (
            f"{self.principal:<28} ALLOW {self.operation.name:<9} "
            f"{self.resource_type.name}:{self.pattern.name}:{self.resource}"
        )

    def as_json(self) -> dict[str, str]:
        return {
            "principal": self.principal,
            "permission": "ALLOW",
            "operation": self.operation.name,
            "resource_type": self.resource_type.name,
            "pattern_type": self.pattern.name,
            "resource": self.resource,
            "host": "*",
        }


def supplier_principal(supplier_id: str) -> str:
    return f"supplier-{supplier_id}"


def gemeente_principal(code: str) -> str:
    """``gemeente-gm0505``: lower case, since a Strimzi KafkaUser is named by its user name
    and Kubernetes names are lower case (the topic keeps the CBS code's ``GM``)."""
    return f"gemeente-{code.lower()}"


def service_principal(service: str) -> str:
    return f"schakel-{service}"


@dataclass(frozen=True)
class _Access:
    reads: tuple[str, ...] = ()
    writes: tuple[str, ...] = ()
    #: consumer group prefix (None: the service reads without a group)
    groups: str | None = None


def _access_of(
    reads: Callable[[SchakelConfig], Iterable[str]] | Iterable[str] = (),
    writes: Callable[[SchakelConfig], Iterable[str]] | Iterable[str] = (),
    *,
    groups: bool = True,
) -> Callable[[str, SchakelConfig], _Access]:
    def resolve(service: str, config: SchakelConfig) -> _Access:
        r = reads(config) if callable(reads) else reads
        w = writes(config) if callable(writes) else writes
        return _Access(tuple(r), tuple(w), service_principal(service) if groups else None)

    return resolve


def _inbound(config: SchakelConfig) -> list[str]:
    return [inbound_topic(s.id) for s in config.suppliers]


def _outbound(config: SchakelConfig) -> list[str]:
    return [outbound_topic(s.id) for s in config.suppliers]


def _gemeenten(config: SchakelConfig) -> list[str]:
    return [gemeente_topic(g.code) for g in config.gemeenten]


#: Every hub service and the least it needs. A consumer service's consumer groups are
#: ``schakel-<service>`` plus anything (the service's GROUP_ID constants follow that, with
#: the runtime's group suffix after it); the router's CMDB feed and the normaliser's
#: start-up seeding read without a group. A new service adds one line here.
SERVICES: dict[str, Callable[[str, SchakelConfig], _Access]] = {
    "normaliser": _access_of(lambda c: [*_inbound(c), *NORMALISED], (*NORMALISED, DEADLETTER)),
    "router": _access_of((INCIDENTS, CHANGES, CIS), lambda c: [*_gemeenten(c), TRIAGE, DEADLETTER]),
    "delivery": _access_of(_gemeenten, (AUDIT, DEADLETTER)),
    "sync": _access_of(
        lambda c: [INCIDENTS, CHANGES, *_gemeenten(c), REPLIES],
        lambda c: [*_outbound(c), AUDIT, DEADLETTER],
    ),
    "gateway": _access_of((), _inbound, groups=False),
    "replies": _access_of((), (REPLIES,), groups=False),
    "cmdb-import": _access_of((), (CIS,), groups=False),
    # reads its own topic back at start: the ids already published (exactly once)
    "sla": _access_of((INCIDENTS, CHANGES, SLA), (SLA, DEADLETTER)),
    "changes": _access_of((CHANGES, CIS), lambda c: [CHANGE_FINDINGS, *_gemeenten(c), DEADLETTER]),
    "feed": _access_of(
        lambda c: [*NORMALISED, *_gemeenten(c), TRIAGE, SLA, REPLIES, AUDIT, DEADLETTER], ()
    ),
}


def _grants(principal: str, access: _Access) -> list[AclBinding]:
    user = f"User:{principal}"
    out = [
        AclBinding(user, ResourceType.TOPIC, PatternType.LITERAL, t, Operation.READ)
        for t in dict.fromkeys(access.reads)
    ]
    out += [
        AclBinding(user, ResourceType.TOPIC, PatternType.LITERAL, t, Operation.WRITE)
        for t in dict.fromkeys(access.writes)
    ]
    if access.groups is not None:
        out.append(
            AclBinding(
                user, ResourceType.GROUP, PatternType.PREFIXED, access.groups, Operation.READ
            )
        )
    return out


def plan(config: SchakelConfig, services: Sequence[str] | None = None) -> list[AclBinding]:
    """Every ACL binding the hub needs for ``config``, sorted (``services``: which hub
    services get principals; default all of :data:`SERVICES`)."""
    bindings: list[AclBinding] = []
    for supplier in config.suppliers:
        name = supplier_principal(supplier.id)
        # the '.' ends the prefix: supplier ids are slugs without dots, so supplier 'kpn'
        # cannot use the groups of a supplier 'kpn2'
        access = _Access((outbound_topic(supplier.id),), (inbound_topic(supplier.id),), name + ".")
        bindings += _grants(name, access)
    for gemeente in config.gemeenten:
        name = gemeente_principal(gemeente.code)
        bindings += _grants(name, _Access((gemeente_topic(gemeente.code),), (), name + "."))
    for service in services if services is not None else SERVICES:
        bindings += _grants(service_principal(service), SERVICES[service](service, config))
    return sorted(set(bindings))


def principals(config: SchakelConfig, services: Sequence[str] | None = None) -> list[str]:
    """The SCRAM user names the plan grants rights to (without ``User:``)."""
    return sorted({b.principal.removeprefix("User:") for b in plan(config, services)})


# --- the broker side ----------------------------------------------------------------------


async def _client(bootstrap: str, security: KafkaSecurity | None) -> AIOKafkaClient:
    client = AIOKafkaClient(**client_options(bootstrap, security), client_id="schakel-acl")
    try:
        await client.bootstrap()
    except KafkaConnectionError as exc:
        await client.close()
        raise BrokerUnavailable(
            f"Kafka at {bootstrap} did not answer, or refused the login ({exc})"
        ) from None
    return client


async def _send(client: AIOKafkaClient, request: Any) -> Any:
    node = client.get_random_node()
    return await client.send(node, request)


async def describe(bootstrap: str, *, security: KafkaSecurity | None = None) -> list[AclBinding]:
    """The ALLOW bindings on the broker that this module can express (literal and prefixed
    topic and group rules), sorted."""
    client = await _client(bootstrap, security)
    try:
        response = await _send(
            client,
            DescribeAclsRequest(
                ResourceType.ANY, None, PatternType.ANY, None, None, Operation.ANY, _ANY_PERMISSION
            ),
        )
    finally:
        await client.close()
    if response.error_code:
        raise AclError(f"DescribeAcls failed ({response.error_code}): {response.error_message}")
    found: list[AclBinding] = []
    for resource_type, name, pattern, acls in response.resources:
        for principal, _host, operation, permission in acls:
            if permission != _ALLOW:
                continue
            try:
                found.append(
                    AclBinding(
                        principal,
                        ResourceType(resource_type),
                        PatternType(pattern),
                        name,
                        Operation(operation),
                    )
                )
            except ValueError:
                continue  # a rule of a kind this module never writes
    return sorted(found)


@dataclass(frozen=True)
class Applied:
    created: list[AclBinding]
    deleted: list[AclBinding]
    kept: int


async def apply(
    bootstrap: str,
    bindings: Sequence[AclBinding],
    *,
    prune: bool = False,
    security: KafkaSecurity | None = None,
) -> Applied:
    """Create the bindings the broker does not have yet; with ``prune``, delete the hub's
    principals' bindings that are not in ``bindings`` (a removed supplier loses its rights).
    Needs a principal allowed to alter ACLs (the admin)."""
    present = set(await describe(bootstrap, security=security))
    wanted = set(bindings)
    missing = sorted(wanted - present)
    extra = sorted(
        b for b in present - wanted if prune and b.principal.startswith(_MANAGED_PREFIXES)
    )
    client = await _client(bootstrap, security)
    try:
        for binding in missing:
            response = await _send(
                client,
                CreateAclsRequest(
                    binding.resource_type,
                    binding.resource,
                    binding.pattern,
                    binding.principal,
                    "*",
                    binding.operation,
                    _ALLOW,
                ),
            )
            for code, message in response.creation_responses:
                if code:
                    raise AclError(f"creating {binding} failed ({code}): {message}")
        for binding in extra:
            response = await _send(
                client,
                DeleteAclsRequest(
                    binding.resource_type,
                    binding.resource,
                    binding.pattern,
                    binding.principal,
                    "*",
                    binding.operation,
                    _ALLOW,
                ),
            )
            for entry in response.filter_responses:
                if entry[0]:
                    raise AclError(f"deleting {binding} failed ({entry[0]}): {entry[1]}")
    finally:
        await client.close()
    return Applied(missing, extra, len(wanted & present))
