"""Retention in years per topic (config feed.retention.topics) reaches the topics the hub
creates; compacted topics keep their policy."""

from __future__ import annotations

from schemas.topics import AUDIT, CIS, INCIDENTS, topic_specs
from services.bootstrap import specs_for
from services.config import SchakelConfig
from services.config.models import FeedConfig, FeedRetention

_DAY_MS = 24 * 3600 * 1000


def test_topic_retention_in_years(example_config: SchakelConfig) -> None:
    specs = {s.name: s for s in topic_specs(["kpn"], [], retention_years={AUDIT: 10, CIS: 1})}
    assert specs[AUDIT].config["retention.ms"] == str(round(10 * 365.25) * _DAY_MS)
    assert specs[CIS].config["cleanup.policy"] == "compact"
    assert "retention.ms" not in specs[CIS].config
    assert specs[INCIDENTS].config["retention.ms"] == str(400 * _DAY_MS)
    config = example_config.model_copy(
        update={"feed": FeedConfig(retention=FeedRetention(topics={INCIDENTS: 2}))}
    )
    hub = {s.name: s for s in specs_for(config)}
    assert hub[INCIDENTS].config["retention.ms"] == str(round(2 * 365.25) * _DAY_MS)
