"""``schakel cmdb import``: CSV, JSON and ServiceNow exports -> CI CloudEvents, in chunks."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest
from rich.console import Console

from schemas import CiStatus, CloudEvent, ConfigurationItem, EntityKind, hub_id
from schemas.topics import CIS
from services.cmdb import CiTable, CmdbImportError, cmdb_import, read_export
from services.cmdb.importer import CSV_COLUMNS, detect_format
from services.config import SchakelConfig
from services.demo.gen_servicenow import servicenow_ci, servicenow_ci_relation
from tests.fakes import MemoryPublisher
from tests.router_kit import incident

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)

CSV = "\n".join(
    [
        "record_id,name,ci_class,status,gemeenten,fb_team,gemma_component,relations,"
        "updated_at,version",
        "zs-01,Zaaksysteem Drechtsteden,cmdb_ci_appl,operational,"
        "GM0482;GM0505;GM0523;GM0531;GM0590;GM0610;GM0642,,Zaakregistratiecomponent,"
        "runs_on:srv-01,2026-03-01T06:00:00+00:00,12",
        "srv-01,DC1-APP01,cmdb_ci_linux_server,,,,,,,",
        'afs-01,Afsprakenplanner,cmdb_ci_appl,repair,"GM0505, GM0523",fb-burgerzaken,'
        "Afsprakenbeheercomponent,,,",
        "",
    ]
)


def write(tmp_path: Path, name: str, content: str | bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    return path


async def test_csv_export_becomes_ci_events_keyed_by_hub_id(
    tmp_path: Path, example_config: SchakelConfig
) -> None:
    supplier = example_config.supplier("kpn")
    path = write(tmp_path, "cmdb.csv", CSV)
    publisher = MemoryPublisher()
    report = await cmdb_import(path, supplier=supplier, publisher=publisher, chunk_size=2, now=NOW)
    assert (report.format, report.published, report.skipped) == ("csv", 3, ())
    assert [len(b) for b in publisher.batches] == [2, 1]
    items = {}
    for message in publisher.sent:
        event = CloudEvent[ConfigurationItem].model_validate_json(message.value)
        assert message.topic == CIS
        assert message.key == event.subject.encode() == event.data.hub_id.encode()
        assert event.source == supplier.source_urn and event.supplierid == "kpn"
        assert event.type == "nl.itsm.ci.updated.v1"
        headers = dict(message.headers)
        assert headers["schakel-event-id"] == event.id.encode()
        assert headers["schakel-hub-id"] == message.key
        # the normaliser seeds its idempotency gate from this header at start
        assert headers["schakel-version"] == str(event.data.version).encode()
        items[event.data.supplier_ref.record_id] = event.data
    zs = items["zs-01"]
    assert zs.hub_id == hub_id("kpn", EntityKind.CI, "zs-01")
    assert len(zs.gemeenten) == 7 and zs.gemma_component == "Zaakregistratiecomponent"
    assert [(r.kind, r.target_record_id) for r in zs.relations] == [("runs_on", "srv-01")]
    assert zs.version == 12 and zs.updated_at == datetime(2026, 3, 1, 6, tzinfo=UTC)
    assert zs.technical_supplier == "kpn" and zs.supplier_ref.system.value == "servicenow"
    afs = items["afs-01"]
    assert afs.gemeenten == ("GM0505", "GM0523") and afs.status is CiStatus.REPAIR
    assert afs.fb_team == "fb-burgerzaken"
    srv = items["srv-01"]
    assert srv.ci_class == "cmdb_ci_linux_server" and srv.gemeenten == ()
    assert srv.updated_at == NOW and srv.version == int(NOW.timestamp() * 1000)

    # what the router makes of it: the server's incident reaches the zaaksysteem's owners
    table = CiTable(items.values())
    server = table.resolve("kpn", incident(ci_record="srv-01").ci)
    assert server is not None
    assert {a.ci.name for a in table.affected(server)} == {"DC1-APP01", "Zaaksysteem Drechtsteden"}

    again = MemoryPublisher()
    await cmdb_import(path, supplier=supplier, publisher=again, now=NOW)
    assert [m.value for m in again.sent] == [m.value for m in publisher.sent]  # same ids


async def test_json_list_and_semicolon_csv(tmp_path: Path, example_config: SchakelConfig) -> None:
    supplier = example_config.supplier("centric")
    rows = [
        {
            "record_id": "A1",
            "name": "BRP-suite",
            "gemeenten": ["GM0505", "gm0642"],
            "relations": [{"kind": "depends_on", "target_record_id": "DB1", "target_name": "DB"}],
            "deleted": False,
        },
        {"record_id": "B2", "name": "Oud systeem", "deleted": True},
    ]
    path = write(tmp_path, "export.json", orjson.dumps(rows))
    fmt, found, problems = read_export(path, supplier, now=NOW)
    assert fmt == "json" and not problems
    (brp, _), (old, _) = found
    assert brp.gemeenten == ("GM0505", "GM0642")
    assert brp.relations[0].target_name == "DB"
    assert brp.supplier_ref.system.value == "topdesk"
    assert old.deleted and old.status is CiStatus.RETIRED
    publisher = MemoryPublisher()
    await cmdb_import(path, supplier=supplier, publisher=publisher, now=NOW)
    types = [orjson.loads(m.value)["type"] for m in publisher.sent]
    assert types == ["nl.itsm.ci.updated.v1", "nl.itsm.ci.deleted.v1"]

    semicolons = write(
        tmp_path, "export.txt", "\ufeffrecord_id;name;gemeenten\nX;Eén systeem;GM0505 GM0590\n"
    )
    fmt, found, problems = read_export(semicolons, supplier, now=NOW)
    assert fmt == "csv" and not problems
    assert found[0][0].name == "Eén systeem"
    assert found[0][0].gemeenten == ("GM0505", "GM0590")


async def test_servicenow_table_api_export_reads_like_live_records(
    tmp_path: Path, example_config: SchakelConfig
) -> None:
    supplier = example_config.supplier("kpn")
    rng = random.Random(3)
    records = [orjson.loads(servicenow_ci(rng, i, NOW)[2]) for i in range(6)]
    relation = orjson.loads(servicenow_ci_relation(rng, 7, NOW)[2])["result"]
    export = {"result": [*records, relation]}
    path = write(tmp_path, "cmdb_ci.json", orjson.dumps(export))
    assert detect_format(path, path.read_bytes()[:20]) == "servicenow"
    fmt, found, problems = read_export(path, supplier, now=NOW)
    assert fmt == "servicenow"
    # the catalogue repeats CIs: every record id after the first is reported
    ids = [r["sys_id"] for r in records]
    assert len(found) + len(problems) == len(export["result"])
    assert len(problems) == len(ids) - len(set(ids))
    assert all("again" in p.message for p in problems)
    classes = {ci.ci_class for ci, _ in found}
    assert "cmdb_rel_ci" in classes
    with pytest.raises(CmdbImportError):
        await cmdb_import(path, supplier=supplier, publisher=MemoryPublisher(), now=NOW)
    publisher = MemoryPublisher()
    report = await cmdb_import(
        path, supplier=supplier, publisher=publisher, now=NOW, skip_invalid=True
    )
    assert report.published == len(found) and len(report.skipped) == len(problems)


async def test_bad_rows_refuse_the_whole_export_with_row_and_reason(
    tmp_path: Path, example_config: SchakelConfig
) -> None:
    supplier = example_config.supplier("kpn")
    content = (
        "record_id,name,gemeenten,status,relations,updated_at,version\n"
        "ok-1,Goed,GM0505,,,,\n"
        ",Zonder id,,,,,\n"
        "bad-2,Foute code,Dordrecht,,,,\n"
        "bad-3,Foute status,,kapot,,,\n"
        "bad-4,Foute relatie,,,runs_on,,\n"
        "bad-5,Geen zone,,,,2026-01-01T10:00:00,\n"
        "ok-1,Dubbel,,,,,\n"
        "bad-6,Te veel,,,,,,extra\n"
    )
    path = write(tmp_path, "cmdb.csv", content)
    publisher = MemoryPublisher()
    with pytest.raises(CmdbImportError) as caught:
        await cmdb_import(path, supplier=supplier, publisher=publisher)
    assert publisher.sent == []  # nothing published
    problems = {p.row: p.message for p in caught.value.problems}
    assert sorted(problems) == [3, 4, 5, 6, 7, 8, 9]
    assert "record_id" in problems[3]
    assert "gemeenten" in problems[4]
    assert "status" in problems[5]
    assert "kind:target_record_id" in problems[6]
    assert "time zone" in problems[7]
    assert "again (first at row 2)" in problems[8]
    assert "more values" in problems[9]
    assert f"{path}:4: " in str(caught.value)

    unknown = write(tmp_path, "typo.csv", "record_id,naam,gemeenten\nx,y,GM0505\n")
    with pytest.raises(
        CmdbImportError, match=r"missing column\(s\) name; unknown column\(s\) naam"
    ):
        read_export(unknown, supplier)
    with pytest.raises(CmdbImportError, match="not valid JSON"):
        read_export(write(tmp_path, "x.json", b"[{"), supplier)
    with pytest.raises(CmdbImportError, match="cannot read"):
        read_export(tmp_path / "missing.csv", supplier)
    with pytest.raises(CmdbImportError, match="list of CI objects"):
        read_export(write(tmp_path, "obj.json", b'{"record_id": "a"}'), supplier, fmt="json")
    _, found, problems = read_export(
        write(tmp_path, "l.json", b'[1, {"record_id": "a"}]'), supplier
    )
    assert not found
    assert [(p.row, p.message) for p in problems] == [(1, "not a JSON object"), (2, "missing name")]


async def test_progress_is_shown_on_a_console(
    tmp_path: Path, example_config: SchakelConfig
) -> None:
    console = Console(record=True, width=120, force_terminal=False)
    path = write(tmp_path, "cmdb.csv", CSV)
    await cmdb_import(
        path,
        supplier=example_config.supplier("kpn"),
        publisher=MemoryPublisher(),
        console=console,
        now=NOW,
    )
    assert "CI's publiceren" in console.export_text()
    assert CSV_COLUMNS[:2] == ("record_id", "name")
