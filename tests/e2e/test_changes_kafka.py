"""End to end on the real broker: two suppliers plan overlapping changes on related CIs.

KPN plans maintenance on a server and Centric an upgrade of the burgerzaken application that
runs on it, in overlapping windows tomorrow night. The CMDB (on ``schakel.cis.v1``) says the
application runs on the server and belongs to this test's gemeente. The changes service
raises the collision on ``schakel.change-findings.v1`` with its explanation; the delivery
service brings the advance notices to the gemeente's burgerzaken team's webhook. Centric
moves its upgrade a week: the collision is withdrawn and the team hears of the move. The
changes service restarted on the same store and group sends nothing again: every receiver
got each notice once.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import pytest

from schemas import CloudEvent, RoutedTicket
from schemas.changes import ChangeFindingEvent
from schemas.topics import CHANGE_FINDINGS, CHANGES, CIS, DEADLETTER, gemeente_topic, topic_specs
from services.changes import ChangesService
from services.config import FbTeam, Gemeente, SchakelConfig, Settings
from services.kafka import ensure_topics
from services.messaging import KafkaBatchPublisher, OutboundMessage
from tests.changes_kit import change, with_changes
from tests.conftest import KafkaBroker
from tests.delivery_kit import config_with_gemeenten, webhook
from tests.e2e._io import collect, end_offsets, running_hub, wait_until
from tests.e2e.test_delivery_kafka import SECRET, fresh_gemeente, running_delivery
from tests.integration._peers import WebhookReceiver, serve
from tests.router_kit import ci, ci_event, ticket_event

pytestmark = [pytest.mark.kafka]


@asynccontextmanager
async def running_changes(
    bootstrap: str, config: SchakelConfig, store_url: str, suffix: str
) -> AsyncIterator[ChangesService]:
    """The changes service as ``schakel serve changes`` builds it (the composition root)."""
    settings = Settings(store_url=store_url, group_suffix=suffix)
    async with running_hub(bootstrap, config, ["changes"], settings=settings) as hub:
        service = hub.services["changes"]
        assert isinstance(service, ChangesService)
        yield service


async def produce(bootstrap: str, messages: list[OutboundMessage]) -> None:
    publisher = KafkaBatchPublisher(bootstrap, client_id="schakel-changes-e2e-supplier")
    await publisher.start()
    try:
        await publisher.send_all(messages)
    finally:
        await publisher.stop()


def _findings(records: list) -> list[ChangeFindingEvent]:  # type: ignore[type-arg]
    return [ChangeFindingEvent.model_validate_json(r.value) for r in records]


async def test_collision_raised_withdrawn_and_notices_once(
    kafka: KafkaBroker,
    example_config: SchakelConfig,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    bootstrap = kafka.bootstrap
    code = await fresh_gemeente(bootstrap)
    topic = gemeente_topic(code)
    wanted = {topic, CHANGE_FINDINGS, CHANGES, CIS, DEADLETTER}
    await ensure_topics(bootstrap, [s for s in topic_specs([], [code]) if s.name in wanted])
    monkeypatch.setenv("SCHAKEL_E2E_FB_SECRET", SECRET)
    tag = uuid.uuid4().hex[:8]
    hooks = WebhookReceiver({"bz": SECRET, "zaken": SECRET})
    store_url = f"sqlite+aiosqlite:///{tmp_path / 'schakel.db'}"

    server = ci(f"srv-{tag}", f"Server {tag}", ci_class="cmdb_ci_server")
    app = ci(
        f"app-{tag}",
        f"Burgerzaken {tag}",
        relations=[("runs_on", f"srv-{tag}")],
        gemeenten=[code],
        gemma="Burgerzakencomponent",
    )
    night = (datetime.now(UTC) + timedelta(days=1)).replace(minute=0, second=0, microsecond=0)
    kpn = change(f"dc-{tag}", night, night + timedelta(hours=4), ci=server.name, number=f"CHG{tag}")
    centric = change(
        f"bz-{tag}",
        night + timedelta(hours=2),
        night + timedelta(hours=5),
        ci=app.name,
        supplier="centric",
        number=f"C-{tag}",
    )
    pair = {kpn.hub_id, centric.hub_id}

    def collision(record) -> bool:  # type: ignore[no-untyped-def]
        event = ChangeFindingEvent.model_validate_json(record.value)
        return event.data.kind == "collision" and {c.hub_id for c in event.data.changes} == pair

    async with serve(hooks.app) as url:
        teams = [
            FbTeam.model_validate(
                {
                    "id": "fb-bz",
                    "name": "Burgerzaken",
                    "gemma_components": ["Burgerzakencomponent"],
                    "channels": [webhook(f"{url}/hook/bz", "SCHAKEL_E2E_FB_SECRET")],
                }
            ),
            FbTeam.model_validate(
                {
                    "id": "fb-zaken",
                    "name": "Zaken",
                    "channels": [webhook(f"{url}/hook/zaken", "SCHAKEL_E2E_FB_SECRET")],
                }
            ),
        ]
        gemeente = Gemeente(code=code, name="E2E-gemeente", teams=teams, default_team="fb-zaken")
        config = with_changes(
            config_with_gemeenten(example_config, gemeente),
            margin_minutes=30,
            notice_days=3,
            tick_seconds=1,
        )
        since = await end_offsets(bootstrap, CHANGE_FINDINGS)
        await produce(
            bootstrap,
            [OutboundMessage(CIS, ci_event(c), c.hub_id.encode()) for c in (server, app)],
        )
        suffix = f"-e2e-{tag}"
        async with running_delivery(bootstrap, config, store_url, topic):
            async with running_changes(bootstrap, config, store_url, suffix):
                await produce(
                    bootstrap,
                    [
                        OutboundMessage(CHANGES, ticket_event(c), c.hub_id.encode())
                        for c in (kpn, centric)
                    ],
                )
                raised = _findings(await collect(bootstrap, CHANGE_FINDINGS, since, collision, 1))
                assert [(e.data.state, e.sequence) for e in raised] == [("raised", "1")]
                text = raised[0].data.explanation
                assert f"CHG{tag}" in text and f"C-{tag}" in text and "Botsing" in text
                assert f"'Burgerzaken {tag}'" in text and "E2E-gemeente" in text
                assert raised[0].data.gemeenten == (code,)

                moved = centric.model_copy(
                    update={
                        "planned_start": night + timedelta(days=7),
                        "planned_end": night + timedelta(days=7, hours=3),
                        "version": 2,
                    }
                )
                await produce(
                    bootstrap,
                    [OutboundMessage(CHANGES, ticket_event(moved), moved.hub_id.encode())],
                )
                both = _findings(await collect(bootstrap, CHANGE_FINDINGS, since, collision, 2))
                assert [(e.data.state, e.sequence) for e in both] == [
                    ("raised", "1"),
                    ("withdrawn", "2"),
                ]
                assert "is verplaatst naar" in both[1].data.explanation
                assert both[0].subject == both[1].subject  # one key: raise and withdraw in order

                assert await wait_until(lambda: len(hooks.accepted["bz"]) >= 3, 60)
            # a restart on the same store and group: nothing is sent again
            async with running_changes(bootstrap, config, store_url, suffix) as again:
                await again.evaluate_now()
                assert not await wait_until(lambda: len(hooks.accepted["bz"]) > 3, 3)

    notices = [
        CloudEvent[RoutedTicket].model_validate_json(body).data
        for body in hooks.accepted["bz"].values()
    ]
    seen = sorted(
        (n.ticket.supplier_ref.number or "", str(n.decision.inputs["notice"])) for n in notices
    )
    assert seen == [(f"C-{tag}", "announced"), (f"C-{tag}", "moved"), (f"CHG{tag}", "announced")]
    assert all(n.decision.recipients[0].team == "fb-bz" for n in notices)
    assert hooks.accepted["zaken"] == {}
    assert len(hooks.attempts_of("bz")) == 3  # no retries, no duplicates (409s)
    assert orjson.loads(hooks.attempts_of("bz")[0].body)["type"] == "nl.itsm.change.routed.v1"
