"""Readiness as /readyz decides it, and the hub's metric names."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from prometheus_client import REGISTRY

from services.observability import Health


class _Consumer:
    def __init__(self, assigned: set[Any], generation: int = -1) -> None:
        self._assigned = assigned
        self._coordinator = SimpleNamespace(generation=generation)

    def assignment(self) -> set[Any]:
        return self._assigned


class _Broker:  # what Health reads of FastStream's KafkaBroker (weakly referenced)
    def __init__(self, subscribers: list[Any]) -> None:
        self.subscribers = subscribers


def _health(*consumers: tuple[str, Any]) -> Health:
    health = Health(stuck_after_s=60)
    broker = _Broker([SimpleNamespace(group_id=g, consumer=c) for g, c in consumers])
    health.watch(broker)  # type: ignore[arg-type]
    health.keep = broker  # type: ignore[attr-defined]  # the hub holds its broker
    return health


def test_not_ready_before_start_or_before_the_consumer_joined() -> None:
    health = _health(("g", _Consumer(set())))
    assert health.problems() == ["starting"]
    health.started = True
    assert health.problems() == ["g: not joined to its group yet"]
    health = _health(("g", None))
    health.started = True
    assert health.problems() == ["g: consumer not running"]


def test_ready_when_assigned_or_joined_without_partitions() -> None:
    health = _health(("a", _Consumer({("t", 0)})), ("b", _Consumer(set(), generation=3)))
    health.started = True
    assert health.problems() == []


def test_stuck_means_lag_and_no_batch_for_too_long() -> None:
    health = _health(("g", _Consumer({("t", 0)})))
    health.started = True
    health.progressed("g", now=1000.0)
    health._lag = {"g": 5}
    assert health.problems(now=1030.0) == []  # lag, but a batch finished 30 s ago
    assert health.problems(now=1061.0) == ["g: 5 records waiting, no batch done for 61s"]
    health._lag = {"g": 0}
    assert health.problems(now=5000.0) == []  # idle without lag is not stuck


def test_the_hub_series_are_registered() -> None:
    names = set(REGISTRY._names_to_collectors)
    for name in (
        "schakel_dead_letters_total",
        "schakel_idempotency_verdicts_total",
        "schakel_deliveries_total",
        "schakel_supplier_calls_total",
        "schakel_gateway_requests_total",
        "schakel_sla_events_total",
        "schakel_consumer_lag",
    ):
        assert name in names
