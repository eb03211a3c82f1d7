"""The Grafana dashboard (deploy/grafana/schakel.json) is built on series the hub serves."""

from __future__ import annotations

import json
import re
from pathlib import Path

from prometheus_client import REGISTRY

import services.observability  # noqa: F401  (registers the hub's series)

REPO = Path(__file__).resolve().parents[2]
#: FastStream's Prometheus middleware (faststream/prometheus/container.py, prefix faststream)
FASTSTREAM = {
    "faststream_received_messages_total",
    "faststream_received_messages_size_bytes",
    "faststream_received_messages_in_process",
    "faststream_received_processed_messages_total",
    "faststream_received_processed_messages_duration_seconds",
    "faststream_received_processed_messages_exceptions_total",
    "faststream_published_messages_total",
    "faststream_published_messages_duration_seconds",
    "faststream_published_messages_exceptions_total",
}
_FUNCTIONS = {"sum", "by", "rate", "increase", "histogram_quantile", "le"}


def _series(expr: str) -> set[str]:
    expr = re.sub(r"\bby \([^)]*\)", "", expr)  # label names of the aggregation
    expr = re.sub(r"\{[^}]*\}", "{}", expr)  # label matchers
    names = set(re.findall(r"\b([a-z_][a-z0-9_]*)\b(?=\s*[\[{(]|\s*\))", expr))
    metric_like = {n for n in names if "_" in n and n not in _FUNCTIONS}
    return {re.sub(r"_bucket$", "", n) for n in metric_like}


def test_every_panel_queries_a_series_the_hub_serves() -> None:
    dashboard = json.loads((REPO / "deploy" / "grafana" / "schakel.json").read_text())
    served = set(REGISTRY._names_to_collectors) | FASTSTREAM
    used: set[str] = set()
    for panel in dashboard["panels"]:
        for target in panel["targets"]:
            series = _series(target["expr"])
            assert series, panel["title"]
            used |= series
    assert used - served == set()
    assert {n for n in used if n.startswith("schakel_")} >= {
        "schakel_consumer_lag",
        "schakel_dead_letters_total",
        "schakel_deliveries_total",
        "schakel_supplier_calls_total",
        "schakel_gateway_requests_total",
        "schakel_sla_events_total",
        "schakel_idempotency_verdicts_total",
    }
