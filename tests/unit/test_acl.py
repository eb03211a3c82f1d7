"""The ACL plan: generated from the config, least privilege per principal.

What the broker then enforces is proved on a real secure broker with Kafka's own tools in
tests/e2e/test_kafka_security.py.
"""

from __future__ import annotations

import pytest

from schemas.topics import (
    AUDIT,
    CHANGES,
    CIS,
    DEADLETTER,
    INCIDENTS,
    REPLIES,
    TRIAGE,
    gemeente_topic,
    inbound_topic,
    outbound_topic,
    topic_specs,
)
from services import delivery, normaliser, router, sync
from services.acl import (
    SERVICES,
    AclBinding,
    Operation,
    PatternType,
    ResourceType,
    plan,
    principals,
    service_principal,
)
from services.config import SchakelConfig


def _of(bindings: list[AclBinding], principal: str) -> list[AclBinding]:
    return [b for b in bindings if b.principal == f"User:{principal}"]


def _topics(bindings: list[AclBinding], op: Operation) -> set[str]:
    return {
        b.resource for b in bindings if b.resource_type is ResourceType.TOPIC and b.operation is op
    }


def test_a_supplier_writes_its_own_inbound_and_reads_its_own_outbound_only(
    example_config: SchakelConfig,
) -> None:
    bindings = plan(example_config)
    for supplier in example_config.suppliers:
        mine = _of(bindings, f"supplier-{supplier.id}")
        assert _topics(mine, Operation.WRITE) == {inbound_topic(supplier.id)}
        assert _topics(mine, Operation.READ) == {outbound_topic(supplier.id)}
        groups = [b for b in mine if b.resource_type is ResourceType.GROUP]
        assert [(g.pattern, g.resource) for g in groups] == [
            (PatternType.PREFIXED, f"supplier-{supplier.id}.")
        ]
        # nothing literal or prefixed that another supplier's names would fall under
        assert all(
            b.pattern is PatternType.LITERAL for b in mine if b.resource_type is ResourceType.TOPIC
        )
        assert len(mine) == 3


def test_a_gemeente_reads_its_own_topic_only(example_config: SchakelConfig) -> None:
    bindings = plan(example_config)
    for gemeente in example_config.gemeenten:
        mine = _of(bindings, f"gemeente-{gemeente.code.lower()}")
        assert _topics(mine, Operation.READ) == {gemeente_topic(gemeente.code)}
        assert _topics(mine, Operation.WRITE) == set()
        assert len(mine) == 2


def test_nobody_gets_cluster_rights_or_wildcards(example_config: SchakelConfig) -> None:
    bindings = plan(example_config)
    assert {b.resource_type for b in bindings} == {ResourceType.TOPIC, ResourceType.GROUP}
    assert {b.operation for b in bindings} <= {Operation.READ, Operation.WRITE}
    assert not [b for b in bindings if b.resource in ("*", "") or "*" in b.principal]


def test_services_get_what_their_code_uses(example_config: SchakelConfig) -> None:
    bindings = plan(example_config)
    gemeenten = {gemeente_topic(g.code) for g in example_config.gemeenten}
    inbound = {inbound_topic(s.id) for s in example_config.suppliers}
    norm = _of(bindings, "schakel-normaliser")
    assert _topics(norm, Operation.WRITE) == {INCIDENTS, CHANGES, CIS, DEADLETTER}
    assert _topics(norm, Operation.READ) == inbound | {INCIDENTS, CHANGES, CIS}
    rout = _of(bindings, "schakel-router")
    assert _topics(rout, Operation.READ) == {INCIDENTS, CHANGES, CIS}
    assert _topics(rout, Operation.WRITE) == gemeenten | {TRIAGE, DEADLETTER}
    assert _topics(_of(bindings, "schakel-delivery"), Operation.READ) == gemeenten
    assert _topics(_of(bindings, "schakel-delivery"), Operation.WRITE) == {AUDIT, DEADLETTER}
    syn = _of(bindings, "schakel-sync")
    assert REPLIES in _topics(syn, Operation.READ)
    assert _topics(syn, Operation.WRITE) == {
        outbound_topic(s.id) for s in example_config.suppliers
    } | {AUDIT, DEADLETTER}
    assert _topics(_of(bindings, "schakel-gateway"), Operation.WRITE) == inbound
    assert _topics(_of(bindings, "schakel-gateway"), Operation.READ) == set()
    assert _topics(_of(bindings, "schakel-replies"), Operation.WRITE) == {REPLIES}
    # every topic a service names is a topic the hub creates
    created = {
        s.name
        for s in topic_specs(
            [s.id for s in example_config.suppliers], [g.code for g in example_config.gemeenten]
        )
    }
    assert {b.resource for b in bindings if b.resource_type is ResourceType.TOPIC} <= created


@pytest.mark.parametrize(
    ("service", "groups"),
    [
        ("normaliser", [normaliser.GROUP_ID]),
        ("router", [router.GROUP_ID]),
        ("delivery", [delivery.GROUP_ID]),
        ("sync", [sync.GROUP_ID, sync.CORRELATION_GROUP]),
    ],
)
def test_the_services_consumer_groups_fall_under_their_group_acl(
    example_config: SchakelConfig, service: str, groups: list[str]
) -> None:
    mine = _of(plan(example_config), service_principal(service))
    prefixes = [b.resource for b in mine if b.resource_type is ResourceType.GROUP]
    for group in groups:
        for suffix in ("", "-bench"):
            assert any((group + suffix).startswith(p) for p in prefixes), (group, prefixes)


def test_the_plan_follows_the_config(example_config: SchakelConfig) -> None:
    fewer = example_config.model_copy(update={"suppliers": example_config.suppliers[:1]})
    names = principals(fewer)
    assert f"supplier-{example_config.suppliers[0].id}" in names
    assert f"supplier-{example_config.suppliers[1].id}" not in names
    assert {f"schakel-{s}" for s in SERVICES} <= set(names)
    assert plan(example_config) == plan(example_config)  # deterministic, sorted


def test_every_service_of_the_composition_root_has_its_acls() -> None:
    from services.bootstrap import SERVICES as ROOT_SERVICES

    assert set(ROOT_SERVICES) <= set(SERVICES), set(ROOT_SERVICES) - set(SERVICES)
