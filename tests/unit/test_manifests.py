"""The deployment files validated offline against their schemas: the Strimzi manifests against
the CRD schemas Strimzi's own generator produces (vendored in deploy/schemas/strimzi), the
Kubernetes manifests against Kubernetes' schemas (kubernetes-validate, strict: unknown fields
refused), the compose file against the Compose specification. A misspelt field fails."""

from __future__ import annotations

import copy
import json
import re
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
import yaml

from services.config import SchakelConfig
from services.manifests import KAFKA_VERSION, STRIMZI_API, render, to_yaml

REPO = Path(__file__).resolve().parents[2]
SCHEMAS = REPO / "deploy" / "schemas"
KUBERNETES = "1.33"


def _docs(path: Path) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(path.read_text()) if d]


def _closed(node: Any) -> Any:
    """An openAPIV3 CRD schema as JSON Schema, with every object closed to unknown fields,
    as the API server's strict field validation treats them (unless the CRD preserves
    unknown fields there)."""
    if isinstance(node, list):
        return [_closed(n) for n in node]
    if not isinstance(node, dict):
        return node
    out = {k: _closed(v) for k, v in node.items() if not k.startswith("x-kubernetes")}
    if node.get("x-kubernetes-int-or-string"):
        out.pop("type", None)
        out["anyOf"] = [{"type": "integer"}, {"type": "string"}]
    if node.get("nullable"):
        kind = out.pop("type", None)
        if kind:
            out["type"] = [kind, "null"]
    if (
        "properties" in node
        and "additionalProperties" not in node
        and not node.get("x-kubernetes-preserve-unknown-fields")
    ):
        out["additionalProperties"] = False
    return out


@cache
def _strimzi_validator(kind: str) -> jsonschema.Draft7Validator:
    schema = json.loads((SCHEMAS / "strimzi" / f"{kind.lower()}.v1.json").read_text())
    return jsonschema.Draft7Validator(_closed(schema))


def _strimzi_errors(doc: dict[str, Any]) -> list[str]:
    assert doc["apiVersion"] == STRIMZI_API
    return [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
        for e in _strimzi_validator(doc["kind"]).iter_errors(doc)
    ]


def _k8s_errors(doc: dict[str, Any]) -> list[str]:
    try:
        kubernetes_validate.validate(doc, KUBERNETES, strict=True)
    except kubernetes_validate.ValidationError as exc:
        return [f"{'/'.join(map(str, exc.path))}: {exc.message}"]
    return []


def _compose_errors(doc: dict[str, Any]) -> list[str]:
    schema = json.loads((SCHEMAS / "compose-spec.json").read_text())
    validator = jsonschema.Draft202012Validator(schema)
    return [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(doc)
    ]


def test_committed_strimzi_manifests_are_what_the_code_renders(
    example_config: SchakelConfig,
) -> None:
    for name, resources in render(example_config).items():
        committed = (REPO / "deploy" / name).read_text()
        assert committed == to_yaml(resources), (
            f"deploy/{name} drifted from the code: run `schakel deploy render`"
        )


def test_every_hub_topic_has_a_kafka_topic_with_its_settings(
    example_config: SchakelConfig,
) -> None:
    from schemas.topics import topic_specs

    specs = topic_specs(
        [s.id for s in example_config.suppliers], [g.code for g in example_config.gemeenten]
    )
    topics = {
        d["spec"]["topicName"]: d
        for d in _docs(REPO / "deploy" / "strimzi" / "topics.yaml")
        if d["kind"] == "KafkaTopic"
    }
    assert set(topics) == {s.name for s in specs}
    for spec in specs:
        topic = topics[spec.name]["spec"]
        assert topic["partitions"] == spec.partitions
        assert topic["config"] == spec.config
        assert re.fullmatch(
            r"[a-z0-9]([a-z0-9.-]*[a-z0-9])?", topics[spec.name]["metadata"]["name"]
        )


@pytest.mark.parametrize("name", ["kafka.yaml", "topics.yaml"])
def test_strimzi_manifests_match_the_crd_schemas(name: str) -> None:
    for doc in _docs(REPO / "deploy" / "strimzi" / name):
        assert _strimzi_errors(doc) == [], doc["metadata"]["name"]


def test_a_misspelt_strimzi_field_fails(example_config: SchakelConfig) -> None:
    topic = copy.deepcopy(render(example_config)["strimzi/topics.yaml"][0])
    topic["spec"]["partitons"] = topic["spec"].pop("partitions")
    assert any("partitons" in e for e in _strimzi_errors(topic))
    cluster = copy.deepcopy(render(example_config)["strimzi/kafka.yaml"][1])
    cluster["spec"]["kafka"]["listeners"][0]["authentification"] = {"type": "scram-sha-512"}
    assert any("authentification" in e for e in _strimzi_errors(cluster))
    cluster = copy.deepcopy(render(example_config)["strimzi/kafka.yaml"][1])
    cluster["spec"]["kafka"]["listeners"][0]["port"] = "nine"
    assert _strimzi_errors(cluster)


@pytest.mark.parametrize(
    "path", sorted((REPO / "deploy" / "k8s").glob("*.yaml")), ids=lambda p: p.name
)
def test_kubernetes_manifests_match_the_kubernetes_schemas(path: Path) -> None:
    for doc in _docs(path):
        if doc["kind"] == "Kustomization":
            continue
        assert _k8s_errors(doc) == [], f"{path.name}: {doc['metadata']['name']}"


def test_a_misspelt_kubernetes_field_fails() -> None:
    (deployment,) = [
        d for d in _docs(REPO / "deploy" / "k8s" / "router.yaml") if d["kind"] == "Deployment"
    ]
    assert _k8s_errors(deployment) == []
    broken = copy.deepcopy(deployment)
    broken["spec"]["template"]["spec"]["containers"][0]["imagePullPolicyy"] = "Always"
    assert _k8s_errors(broken)
    broken = copy.deepcopy(deployment)
    broken["spec"]["replicas"] = "two"
    assert _k8s_errors(broken)


def test_compose_file_matches_the_compose_specification() -> None:
    compose = _docs(REPO / "deploy" / "compose" / "docker-compose.yaml")[0]
    assert _compose_errors(compose) == []
    broken = copy.deepcopy(compose)
    broken["services"]["kafka"]["enviroment"] = broken["services"]["kafka"].pop("environment")
    assert any("enviroment" in e for e in _compose_errors(broken))


def test_one_kafka_version_everywhere() -> None:
    pom = (REPO / "deploy" / "local" / "pom.xml").read_text()
    assert f"<kafka.version>{KAFKA_VERSION}</kafka.version>" in pom
    compose = _docs(REPO / "deploy" / "compose" / "docker-compose.yaml")[0]
    assert compose["services"]["kafka"]["image"] == f"apache/kafka:{KAFKA_VERSION}"
    (cluster,) = [
        d for d in _docs(REPO / "deploy" / "strimzi" / "kafka.yaml") if d["kind"] == "Kafka"
    ]
    assert cluster["spec"]["kafka"]["version"] == KAFKA_VERSION


def test_every_service_is_deployed_probed_and_scraped() -> None:
    from services.bootstrap import SERVICES
    from services.manifests import OPS_PORT

    for name in SERVICES:
        (deployment,) = [
            d for d in _docs(REPO / "deploy" / "k8s" / f"{name}.yaml") if d["kind"] == "Deployment"
        ]
        pod = deployment["spec"]["template"]
        assert pod["metadata"]["annotations"]["prometheus.io/port"] == str(OPS_PORT)
        (container,) = pod["spec"]["containers"]
        assert container["args"] == ["serve", name]
        assert {"name": "ops", "containerPort": OPS_PORT} in container["ports"]
        assert container["livenessProbe"]["httpGet"] == {"path": "/livez", "port": "ops"}
        assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "ops"}


def test_a_kafka_user_per_principal_with_exactly_its_acls(example_config: SchakelConfig) -> None:
    from services.acl import plan, principals

    users = {
        d["metadata"]["name"]: d
        for d in _docs(REPO / "deploy" / "strimzi" / "users.yaml")
        if d["kind"] == "KafkaUser"
    }
    assert set(users) == set(principals(example_config))
    for name, user in users.items():
        assert re.fullmatch(r"[a-z0-9]([a-z0-9.-]*[a-z0-9])?", name), name  # a Kubernetes name
        assert _strimzi_errors(user) == [], name
    granted = {
        (user, acl["resource"]["type"], acl["resource"]["name"], op.upper())
        for user, doc in users.items()
        for acl in doc["spec"]["authorization"]["acls"]
        for op in acl["operations"]
    }
    planned = {
        (
            b.principal.removeprefix("User:"),
            b.resource_type.name.lower(),
            b.resource,
            b.operation.name.replace("_", ""),
        )
        for b in plan(example_config)
    }
    assert granted == planned
