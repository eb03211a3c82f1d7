"""Deployment manifests rendered from the code and the config, never kept by hand twice.

``schakel deploy render`` writes

* ``deploy/strimzi/``: the Kafka cluster (a ``Kafka`` with a ``KafkaNodePool`` in KRaft mode,
  SCRAM-SHA-512 listener, simple authorisation) and one ``KafkaTopic`` per hub topic with the
  partitions, retention and compaction of :func:`schemas.topics.topic_specs`, all on
  ``kafka.strimzi.io/v1``;
* ``deploy/k8s/``: a Deployment per service of the composition root (probes on the ops port's
  ``/livez`` and ``/readyz``, scrape annotations for ``/metrics``), a Service for the HTTP
  ones, and the kustomization listing them.

``tests/unit/test_manifests.py`` renders the example config again and fails when the committed
files drift, and validates them against the vendored schemas in ``deploy/schemas/``.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from schemas.topics import TopicSpec, topic_specs
from services.acl import AclBinding, Operation, PatternType, ResourceType, plan
from services.bootstrap import SERVICES
from services.config import SchakelConfig

__all__ = [
    "CLUSTER",
    "HTTP_PORTS",
    "KAFKA_VERSION",
    "OPS_PORT",
    "STRIMZI_API",
    "deployment",
    "kafka_cluster",
    "kafka_topics",
    "kafka_users",
    "kustomization",
    "render",
    "to_yaml",
    "write",
]

#: the Kafka version the hub is built and tested against: deploy/local/pom.xml, the compose
#: file and the Strimzi cluster pin the same one (a test holds them together)
KAFKA_VERSION = "4.2.2"
STRIMZI_API = "kafka.strimzi.io/v1"
CLUSTER = "schakel"
_NAME = re.compile(r"[^a-z0-9.-]+")


def _resource_name(topic: str) -> str:
    """A Kubernetes name for a topic (lower case; the topic's own name is in topicName)."""
    return _NAME.sub("-", topic.lower()).strip("-.")


def kafka_cluster(
    *, cluster: str = CLUSTER, replicas: int = 3, storage_gi: int = 100
) -> list[dict[str, Any]]:
    """The Kafka cluster: one node pool of combined controller+broker nodes (KRaft),
    a TLS listener with SCRAM-SHA-512 and ACLs enforced (Kafka's StandardAuthorizer)."""
    min_isr = max(1, replicas - 1)
    pool = {
        "apiVersion": STRIMZI_API,
        "kind": "KafkaNodePool",
        "metadata": {"name": "combined", "labels": {"strimzi.io/cluster": cluster}},
        "spec": {
            "replicas": replicas,
            "roles": ["controller", "broker"],
            "storage": {
                "type": "jbod",
                "volumes": [
                    {
                        "id": 0,
                        "type": "persistent-claim",
                        "size": f"{storage_gi}Gi",
                        "deleteClaim": False,
                        "kraftMetadata": "shared",
                    }
                ],
            },
            "resources": {
                "requests": {"cpu": "500m", "memory": "2Gi"},
                "limits": {"memory": "2Gi"},
            },
        },
    }
    kafka = {
        "apiVersion": STRIMZI_API,
        "kind": "Kafka",
        "metadata": {"name": cluster},
        "spec": {
            "kafka": {
                "version": KAFKA_VERSION,
                "listeners": [
                    {
                        "name": "scram",
                        "port": 9093,
                        "type": "internal",
                        "tls": True,
                        "authentication": {"type": "scram-sha-512"},
                    }
                ],
                "authorization": {"type": "simple"},
                "config": {
                    "auto.create.topics.enable": False,
                    "default.replication.factor": replicas,
                    "min.insync.replicas": min_isr,
                    "offsets.topic.replication.factor": replicas,
                    "transaction.state.log.replication.factor": replicas,
                    "transaction.state.log.min.isr": min_isr,
                },
            },
            "entityOperator": {"topicOperator": {}, "userOperator": {}},
        },
    }
    return [pool, kafka]


def kafka_topics(
    specs: list[TopicSpec], *, cluster: str = CLUSTER, replicas: int = 3
) -> list[dict[str, Any]]:
    """One KafkaTopic per hub topic, with its partitions and settings."""
    return [
        {
            "apiVersion": STRIMZI_API,
            "kind": "KafkaTopic",
            "metadata": {
                "name": _resource_name(spec.name),
                "labels": {"strimzi.io/cluster": cluster},
            },
            "spec": {
                "topicName": spec.name,
                "partitions": spec.partitions,
                "replicas": replicas,
                "config": dict(sorted(spec.config.items())),
            },
        }
        for spec in specs
    ]


_RESOURCE = {ResourceType.TOPIC: "topic", ResourceType.GROUP: "group"}
_PATTERN = {PatternType.LITERAL: "literal", PatternType.PREFIXED: "prefix"}
_OPERATION = {
    Operation.READ: "Read",
    Operation.WRITE: "Write",
    Operation.CREATE: "Create",
    Operation.DELETE: "Delete",
    Operation.ALTER: "Alter",
    Operation.DESCRIBE: "Describe",
    Operation.DESCRIBE_CONFIGS: "DescribeConfigs",
    Operation.ALTER_CONFIGS: "AlterConfigs",
    Operation.IDEMPOTENT_WRITE: "IdempotentWrite",
    Operation.ALL: "All",
}


def kafka_users(bindings: list[AclBinding], *, cluster: str = CLUSTER) -> list[dict[str, Any]]:
    """A KafkaUser (SCRAM-SHA-512) per principal of the ACL plan (services/acl.py: the same
    bindings ``schakel acl apply`` creates), with exactly those ACLs."""
    rules: dict[str, dict[tuple[str, str, str], list[str]]] = {}
    for binding in bindings:
        user = binding.principal.removeprefix("User:")
        key = (
            _RESOURCE[binding.resource_type],
            binding.resource,
            _PATTERN[binding.pattern],
        )
        rules.setdefault(user, {}).setdefault(key, []).append(_OPERATION[binding.operation])
    users = []
    for user, acls in sorted(rules.items()):
        users.append(
            {
                "apiVersion": STRIMZI_API,
                "kind": "KafkaUser",
                "metadata": {"name": user, "labels": {"strimzi.io/cluster": cluster}},
                "spec": {
                    "authentication": {"type": "scram-sha-512"},
                    "authorization": {
                        "type": "simple",
                        "acls": [
                            {
                                "resource": {"type": kind, "name": name, "patternType": pattern},
                                "operations": sorted(set(operations)),
                            }
                            for (kind, name, pattern), operations in sorted(acls.items())
                        ],
                    },
                },
            }
        )
    return users


#: /metrics, /livez and /readyz in every pod (SCHAKEL_OPS_PORT)
OPS_PORT = 9400
#: the services that serve HTTP, and on which port (their SCHAKEL_*_PORT default)
HTTP_PORTS = {"gateway": 8088, "replies": 8089, "feed": 8080}
#: replicas per service (consumer groups scale up to the partitions; default 2)
#: (sla: its timer publishes what falls due, one instance per store)
_REPLICAS = {"feed": 1, "changes": 1, "sla": 1}
_CONFIG_FILES = [
    {"key": "schakel.yaml", "path": "schakel.yaml"},
    {"key": "leverancier-x.yaml", "path": "mappings/leverancier-x.yaml"},
]


def deployment(name: str) -> list[dict[str, Any]]:
    """The Deployment of one service (and its Service when it serves HTTP)."""
    app = f"schakel-{name}"
    labels = {"app.kubernetes.io/name": app}
    ports = [{"name": "ops", "containerPort": OPS_PORT}]
    if name in HTTP_PORTS:
        ports.insert(0, {"name": "http", "containerPort": HTTP_PORTS[name]})
    container = {
        "name": name,
        "image": "schakel",
        "args": ["serve", name],
        "ports": ports,
        "envFrom": [
            {"configMapRef": {"name": "schakel-settings"}},
            {"secretRef": {"name": "schakel-secrets", "optional": True}},
        ],
        "startupProbe": {
            "httpGet": {"path": "/livez", "port": "ops"},
            "periodSeconds": 2,
            "failureThreshold": 60,
        },
        "livenessProbe": {"httpGet": {"path": "/livez", "port": "ops"}, "periodSeconds": 20},
        "readinessProbe": {"httpGet": {"path": "/readyz", "port": "ops"}, "periodSeconds": 10},
        "resources": {
            "requests": {"cpu": "250m", "memory": "256Mi"},
            "limits": {"cpu": "1", "memory": "512Mi"},
        },
        "securityContext": {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True},
        "volumeMounts": [{"name": "config", "mountPath": "/etc/schakel", "readOnly": True}],
    }
    resources: list[dict[str, Any]] = [
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": app, "labels": labels},
            "spec": {
                "replicas": _REPLICAS.get(name, 2),
                "selector": {"matchLabels": labels},
                "template": {
                    "metadata": {
                        "labels": labels,
                        "annotations": {
                            "prometheus.io/scrape": "true",
                            "prometheus.io/port": str(OPS_PORT),
                            "prometheus.io/path": "/metrics",
                        },
                    },
                    "spec": {
                        "securityContext": {"runAsNonRoot": True, "runAsUser": 10001},
                        "terminationGracePeriodSeconds": 30,
                        "containers": [container],
                        "volumes": [
                            {
                                "name": "config",
                                "configMap": {"name": "schakel-config", "items": _CONFIG_FILES},
                            }
                        ],
                    },
                },
            },
        }
    ]
    if name in HTTP_PORTS:
        resources.append(
            {
                "apiVersion": "v1",
                "kind": "Service",
                "metadata": {"name": app},
                "spec": {
                    "selector": labels,
                    "ports": [{"name": "http", "port": 80, "targetPort": "http"}],
                },
            }
        )
    return resources


def kustomization(names: list[str]) -> dict[str, Any]:
    """``kubectl apply -k deploy/k8s``: the namespace, the settings and every service."""
    return {
        "apiVersion": "kustomize.config.k8s.io/v1beta1",
        "kind": "Kustomization",
        "namespace": "schakel",
        "labels": [{"pairs": {"app.kubernetes.io/part-of": "schakel"}}],
        "resources": ["namespace.yaml", "settings.yaml", *(f"{n}.yaml" for n in names)],
        "images": [{"name": "schakel", "newTag": "0.1.0"}],
    }


def render(config: SchakelConfig) -> dict[str, list[dict[str, Any]]]:
    """Path (under deploy/) -> the resources it holds, for ``config``."""
    specs = topic_specs([s.id for s in config.suppliers], [g.code for g in config.gemeenten])
    files = {
        "strimzi/kafka.yaml": kafka_cluster(),
        "strimzi/topics.yaml": kafka_topics(specs),
        "strimzi/users.yaml": kafka_users(plan(config)),
        "k8s/kustomization.yaml": [kustomization(list(SERVICES))],
    }
    files |= {f"k8s/{name}.yaml": deployment(name) for name in SERVICES}
    return files


_HEADER = (
    "# Generated by `schakel deploy render` from the code (services/manifests.py, the services\n"
    "# of services/bootstrap.py, schemas/topics.py) and config/schakel.yaml: do not edit by\n"
    "# hand; tests/unit/test_manifests.py fails when this file drifts.\n"
)


class _Dumper(yaml.SafeDumper):
    """Plain YAML for people: a dict used twice is written twice, not as an alias."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def to_yaml(resources: list[dict[str, Any]]) -> str:
    """Resources as one YAML stream, with the generated-file header."""
    body = yaml.dump_all(
        resources, Dumper=_Dumper, sort_keys=False, default_flow_style=False, width=100
    )
    return _HEADER + body


def write(config: SchakelConfig, directory: Path) -> list[Path]:
    """Render into ``directory`` (the repository's deploy/); the files written."""
    written = []
    for name, resources in render(config).items():
        path = directory / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(to_yaml(resources))
        written.append(path)
    return written
