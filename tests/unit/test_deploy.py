"""The deployment files users run (Docker Compose, Kubernetes) are validated here, since no
Docker engine or cluster runs in this project's CI: they parse, name real services and
files, and pin the same Kafka as deploy/local."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from services.bootstrap import SERVICES

REPO = Path(__file__).resolve().parents[2]
RUNNABLE = set(SERVICES)


def _docs(path: Path) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(path.read_text()) if d]


def _kafka_version() -> str:
    pom = (REPO / "deploy" / "local" / "pom.xml").read_text()
    found = re.search(r"<kafka.version>([^<]+)</kafka.version>", pom)
    assert found
    return found.group(1)


def test_compose_services_run_real_commands_with_the_pinned_kafka() -> None:
    compose = _docs(REPO / "deploy" / "compose" / "docker-compose.yaml")[0]
    services = compose["services"]
    assert services["kafka"]["image"] == f"apache/kafka:{_kafka_version()}"
    hub = {name: s for name, s in services.items() if "command" in s}
    assert {s["command"][1] for s in hub.values()} == RUNNABLE
    for name, service in hub.items():
        assert service["command"][0] == "serve", name
        env = service["environment"]
        assert env["SCHAKEL_KAFKA_BOOTSTRAP"] == "kafka:9092", name
        assert env["SCHAKEL_STORE_URL"].startswith("postgresql+psycopg://"), name


def test_kustomization_lists_existing_files_and_every_service() -> None:
    root = REPO / "deploy" / "k8s"
    kustomization = _docs(root / "kustomization.yaml")[0]
    resources = [root / r for r in kustomization["resources"]]
    assert all(p.exists() for p in resources)
    deployments = [d for p in resources for d in _docs(p) if d["kind"] == "Deployment"]
    args = {d["spec"]["template"]["spec"]["containers"][0]["args"][1] for d in deployments}
    assert args == RUNNABLE


@pytest.mark.parametrize(
    "path", sorted((REPO / "deploy" / "k8s").glob("*.yaml")), ids=lambda p: p.name
)
def test_k8s_manifests_are_sound(path: Path) -> None:
    config_files = {"schakel.yaml": REPO / "config" / "schakel.yaml"}
    config_files |= {p.name: p for p in (REPO / "config" / "mappings").glob("*.yaml")}
    for doc in _docs(path):
        assert {"apiVersion", "kind"} <= doc.keys()
        if doc["kind"] == "Kustomization":
            continue
        assert doc["metadata"]["name"]
        if doc["kind"] != "Deployment":
            continue
        spec = doc["spec"]
        assert (
            spec["selector"]["matchLabels"].items()
            <= spec["template"]["metadata"]["labels"].items()
        )
        pod = spec["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True
        for container in pod["containers"]:
            assert container["args"][0] == "serve"
            assert container["resources"]["limits"]
            assert container["securityContext"]["allowPrivilegeEscalation"] is False
        for volume in pod.get("volumes", []):
            for item in volume.get("configMap", {}).get("items", []):
                assert item["key"] in config_files, f"{path.name}: no config file {item['key']}"


def test_dockerfile_copies_what_exists() -> None:
    dockerfile = (REPO / "deploy" / "Dockerfile").read_text()
    for source in re.findall(r"^COPY (?!--from)(\S+)", dockerfile, flags=re.MULTILINE):
        assert (REPO / source).exists(), source
