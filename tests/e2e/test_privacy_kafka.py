"""Personal data from a supplier payload never reaches the unified feed (real broker)."""

from __future__ import annotations

import orjson
import pytest

from schemas import CloudEvent, Incident
from schemas.topics import INCIDENTS, inbound_topic
from tests.conftest import KafkaBroker, config_with_suppliers, unique_supplier
from tests.contract._support import FIXTURES
from tests.e2e._io import collect, end_offsets, running_hub

pytestmark = [pytest.mark.kafka]

EMAIL = "sanne.bakker@dordrecht.nl"
PHONES = ("06-12345678", "+31 78 770 4911", "0031 6 8765 4321")
BSN = "111222333"
IBAN = "NL91 ABNA 0417 1643 00"


async def test_no_personal_data_on_the_incidents_topic_nor_in_the_logs(
    kafka: KafkaBroker, example_config: object, capsys: pytest.CaptureFixture[str]
) -> None:
    supplier = unique_supplier(example_config, "centric")  # type: ignore[arg-type]
    config = config_with_suppliers(example_config, supplier)  # type: ignore[arg-type]
    spec = orjson.loads(
        (FIXTURES / "topdesk/incident/self_service_no_priority_unknown.json").read_bytes()
    )
    payload = spec["payload"]
    payload["request"] = (
        f"Mevrouw belt: mail {EMAIL} of bel {PHONES[0]} / {PHONES[1]}; BSN {BSN}; "
        f"terugbetaling op {IBAN}. Versie 10.0.19045.3803 sinds 06-02-2026 10:00."
    )
    payload["briefDescription"] = f"Terugbellen {PHONES[2]}"
    payload["caller"] = {"dynamicName": "S. Bakker", "email": EMAIL, "phoneNumber": PHONES[0]}
    async with running_hub(kafka.bootstrap, config, ["normaliser"]):
        since = await end_offsets(kafka.bootstrap, INCIDENTS)
        kafka.console_produce(inbound_topic(supplier.id), [(payload["id"], orjson.dumps(payload))])
        events = await collect(
            kafka.bootstrap,
            INCIDENTS,
            since,
            lambda r: orjson.loads(r.value)["supplierid"] == supplier.id,
            count=1,
        )
    assert len(events) == 1
    raw = events[0].value.decode()
    logs = capsys.readouterr()
    for secret in (EMAIL, *PHONES, BSN, IBAN, "0417164300", "12345678"):  # all of them masked
        assert secret not in raw, f"{secret!r} on {INCIDENTS}"
        assert secret not in logs.err + logs.out, f"{secret!r} in the logs"
    incident = CloudEvent[Incident].model_validate_json(events[0].value).data
    assert "10.0.19045.3803" in incident.description and "06-02-2026 10:00" in incident.description
    assert incident.priority is None and incident.priority_given is False
