"""The declarative mapping connector: the mapping language, its start-up checks with file and
line, and the edge logic the leverancier-x contract fixtures do not pin down."""

from __future__ import annotations

import contextlib
import copy
import pickle
import random
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connectors import (
    ConnectorError,
    InboundRecord,
    InvalidValue,
    MalformedPayload,
    SupplierContext,
    UnsupportedPayload,
    translator_for,
)
from connectors.mapped import MappedTranslator, MappingError, check_mapping, load_mapping
from connectors.mapped._dates import check_format, date_reader
from connectors.mapped._paths import PathSyntaxError, compile_path, getter
from schemas import (
    ChangeStatus,
    CiStatus,
    ConfigurationItem,
    EntityKind,
    HoldReason,
    Incident,
    IncidentStatus,
    Priority,
    SupplierSystem,
    Visibility,
    hub_id,
)
from schemas.topics import inbound_topic
from services.demo.gen_mapped import (
    leverancier_x_change,
    leverancier_x_ci,
    leverancier_x_incident,
    leverancier_x_mixed,
)
from tests.contract._support import CONFIG_DIR, context_for

MAPPING = CONFIG_DIR / "mappings" / "leverancier-x.yaml"
MAPPING_TEXT = MAPPING.read_text(encoding="utf-8")


def _ctx(**overrides: Any) -> SupplierContext:
    return context_for(SupplierSystem.MAPPED, **overrides)


def _incident(**fields: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "type": "storing",
        "id": 884211,
        "meldingnummer": "M-2026-04512",
        "onderwerp": "GeoViewer toont geen luchtfoto's",
        "status": "In behandeling",
        "prioriteit": "2",
        "impact": "Hoog",
        "urgentie": "Midden",
        "melder": {"naam": "Sanne Bakker", "email": "s.bakker@dordrecht.example"},
        "aangemaakt_op": "24-11-2026 14:05",
        "gewijzigd_op": "24-11-2026 15:12",
        "gewijzigd_door": "p.degraaf",
        "versie": 3,
    }
    doc.update(fields)
    return doc


def _ci(**fields: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "type": "configuratie-item",
        "id": "APP-0042",
        "objectnummer": "APP-0042",
        "naam": "GeoViewer Drechtsteden",
        "klasse": "Applicatie",
        "status": "In gebruik",
        "gemeenten": ["GM0505", "GM0590"],
        "beheerteam": "fb-zaken",
        "gewijzigd_op": "24-11-2026 15:12",
        "versie": 12,
        "verwijderd": False,
    }
    doc.update(fields)
    return doc


def _record(doc: Any) -> InboundRecord:
    value = doc if isinstance(doc, bytes) else orjson.dumps(doc)
    return InboundRecord(value=value, topic=inbound_topic("leverancier-x"))


_TRANSLATOR = MappedTranslator(_ctx())


def _one(doc: Any, translator: MappedTranslator = _TRANSLATOR) -> Any:
    (translation,) = translator.translate(_record(doc))
    return translation


def _write(tmp_path: Path, text: str, name: str = "x.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _build(path: Path, **overrides: Any) -> MappedTranslator:
    return MappedTranslator(_ctx(options={"mapping": str(path)}, **overrides))


def _problems(path: Path, **overrides: Any) -> MappingError:
    with pytest.raises(MappingError) as caught:
        _build(path, **overrides)
    return caught.value


def _line_of(text: str, needle: str) -> int:
    return next(n for n, line in enumerate(text.splitlines(), 1) if needle in line)


# -- building ---------------------------------------------------------------------------------


def test_translator_for_builds_the_mapped_translator() -> None:
    translator = translator_for(_ctx())
    assert isinstance(translator, MappedTranslator)
    assert translator.system is SupplierSystem.MAPPED


def test_example_mapping_is_valid() -> None:
    compiled = check_mapping(_ctx())
    assert "incident: type storing, melding" in compiled.described
    assert load_mapping(MAPPING).document.timezone == "Europe/Amsterdam"


def test_mapping_path_is_relative_to_config_dir() -> None:
    options = {"mapping": "mappings/leverancier-x.yaml", "config_dir": str(CONFIG_DIR)}
    assert isinstance(MappedTranslator(_ctx(options=options)), MappedTranslator)


def test_missing_mapping_option_is_a_mapping_error() -> None:
    with pytest.raises(MappingError, match="needs the option 'mapping'"):
        MappedTranslator(_ctx(options={}))


def test_unreadable_file_names_the_file(tmp_path: Path) -> None:
    error = _problems(tmp_path / "nowhere.yaml")
    assert "nowhere.yaml: cannot read the mapping" in str(error)


# -- start-up checks: file, line, reason ------------------------------------------------------


def test_unknown_value_map_names_file_line_and_field(tmp_path: Path) -> None:
    text = MAPPING_TEXT.replace("value_map: meldingstatus}", "value_map: statussen}")
    path = _write(tmp_path, text, "leverancier-x.yaml")
    error = _problems(path)
    line = _line_of(text, "value_map: statussen")
    assert isinstance(error, ValueError)
    assert error.problems[0].line == line
    assert str(error).startswith(f"{path}:{line}:")
    assert "incident.fields.status.value_map: unknown value map 'statussen'" in str(error)


def test_value_map_value_must_be_valid_for_its_target(tmp_path: Path) -> None:
    text = MAPPING_TEXT.replace("    Gesloten: closed", "    Gesloten: dicht")
    path = _write(tmp_path, text)
    error = _problems(path)
    assert f":{_line_of(text, 'Gesloten: dicht')}:5: value_maps.meldingstatus.Gesloten:" in str(
        error
    )
    assert "'dicht' is not a valid incident.status" in str(error)
    assert "one of: new, in_progress, on_hold, resolved, closed, cancelled" in str(error)


def test_every_problem_is_reported_at_once_in_line_order(tmp_path: Path) -> None:
    text = (
        MAPPING_TEXT.replace("    assignee: behandelaar", "    behandelaar: behandelaar")
        .replace("timezone: Europe/Amsterdam", "timezone: Europe/Amsterdamm")
        .replace("urgency: {path: urgentie, value_map: niveau}", 'urgency: {path: "a..b"}')
    )
    error = _problems(_write(tmp_path, text))
    reasons = [p.reason for p in error.problems]
    assert len(reasons) == 3, reasons
    assert "unknown time zone 'Europe/Amsterdamm'" in reasons[0]
    assert "'a..b' is not a path" in reasons[1]
    assert "'behandelaar' is not a field of incident" in reasons[2]
    lines = [p.line or 0 for p in error.problems]
    assert lines == sorted(lines)


def test_mapping_error_survives_pickling(tmp_path: Path) -> None:
    error = _problems(_write(tmp_path, "mapping_version: 1\n"))
    copied = pickle.loads(pickle.dumps(error))
    assert str(copied) == str(error)
    assert copied.problems == error.problems


_MINIMAL = """\
mapping_version: 1
incident:
  when: {path: soort, equals: incident}
  record_id: id
  updated_at: tijd
  event_key: [tijd]
  fields:
    title: titel
    status: {path: status}
    priority: {path: prio}
"""


_TITLE = "    title: titel\n"
_PRIORITY = "    priority: {path: prio}\n"
_STATUS = "    status: {path: status}\n"


@pytest.mark.parametrize(
    ("old", "new", "needle", "reason"),
    [
        (_TITLE, "", "  fields:", "needs a source for required field 'title'"),
        (_PRIORITY, "", "  fields:", "(or both impact and urgency)"),
        ("", "    hub_id: h\n", "hub_id", "'hub_id' cannot be mapped here"),
        ("", "    comments: c\n", "comments", "set by the entity's comments block"),
        ("", "    opened_at: {path: o, format: '%Q'}\n", "opened_at", "unknown strftime"),
        ("", "    category: {path: c, format: '%d'}\n", "category", "applies to datetimes"),
        ("", "    opened_at: {path: o, timezone: Mars/X}\n", "opened_at", "unknown time zone"),
        ("", "    impact: {path: i, join: ','}\n", "impact", "join applies to text fields"),
        ("", "    opened_at: {path: o, value_map: m}\n", "opened_at", "cannot produce datetime"),
        ("", "    impact: {path: i, default: enorm}\n", "impact", "'enorm' is not a valid"),
        ("", "    opened_at: {path: o, default: nu}\n", "opened_at", "takes no constant"),
        ("", "    reopened: {constant: misschien}\n", "reopened", "is not true or false"),
        ("", "    resolution.notes: n\n", "  fields:", "resolution.code must be mapped"),
        ("", "    titel: t\n", "titel: t", "'titel' is not a field of incident"),
        (_TITLE, "    title: {path: t, constant: x}\n", "title:", "a constant stands alone"),
        ("", "    impact: {path: i, unmapped: keep}\n", "impact", "unmapped only applies"),
        ("", "    impact: {}\n", "impact: {}", "give a path, a constant or a default"),
        (_STATUS, "    status: {path: s, onbekend: 1}\n", "status:", "unknown key 'onbekend'"),
        ("", "    status.code: x\n", "status.code", "is not a field of incident"),
        ("", "    ci.name: {path: 'ci..naam'}\n", "ci.name", "is not a path"),
    ],
)
def test_field_mistakes_are_found_at_start(
    tmp_path: Path, old: str, new: str, needle: str, reason: str
) -> None:
    text = _MINIMAL.replace(old, new) if old else _MINIMAL + new
    error = _problems(_write(tmp_path, text))
    found = [p for p in error.problems if reason in p.reason]
    assert found, str(error)
    assert found[0].line == _line_of(text, needle), str(error)


def test_yaml_syntax_error_has_its_line(tmp_path: Path) -> None:
    text = _MINIMAL.replace("    status: {path: status}", "    status: {path: status")
    error = _problems(_write(tmp_path, text))
    assert "not valid YAML" in str(error)
    assert error.problems[0].line is not None


def test_duplicate_keys_are_reported(tmp_path: Path) -> None:
    error = _problems(_write(tmp_path, _MINIMAL + "    title: nog een titel\n"))
    assert "duplicate key 'title'" in str(error)
    assert error.problems[0].line == 11


def test_wrong_mapping_version_and_unknown_top_level_key(tmp_path: Path) -> None:
    text = _MINIMAL.replace("mapping_version: 1", "mapping_version: 2\nleverancier: x")
    error = _problems(_write(tmp_path, text))
    assert [p.where for p in error.problems] == ["mapping_version", "leverancier"]
    assert "must be 1" in error.problems[0].reason
    assert error.problems[1].reason == "unknown key 'leverancier'"


def test_when_values_claimed_twice(tmp_path: Path) -> None:
    change = """\
change:
  when: {path: soort, equals: [wijziging, INCIDENT]}
  record_id: id
  updated_at: tijd
  event_key: [tijd]
  fields: {title: t, status: s, change_type: c}
"""
    error = _problems(_write(tmp_path, _MINIMAL + change))
    assert "'INCIDENT' is already claimed by incident's when" in str(error)


def test_supplier_overrides_are_checked(tmp_path: Path) -> None:
    text = _MINIMAL.replace("status: {path: status}", "status: {path: s, value_map: st}")
    text += "value_maps:\n  st: {Open: in_progress}\n"
    path = _write(tmp_path, text)
    unknown = _problems(path, value_maps={"statussen": {"x": "new"}})
    assert "value_maps 'statussen', which this mapping does not define" in str(unknown)
    wrong = _problems(path, value_maps={"st": {"Dicht": "dicht"}})
    assert "override it wrongly for incident.status" in str(wrong)
    assert wrong.problems[0].line == _line_of(text, "  st:")


def test_codes_that_differ_only_in_case_are_reported(tmp_path: Path) -> None:
    text = _MINIMAL.replace("status: {path: status}", "status: {path: s, value_map: st}")
    text += "value_maps:\n  st: {Open: in_progress, 'open ': new}\n"
    assert "is the same code as 'Open'" in str(_problems(_write(tmp_path, text)))


def test_yaml_1_2_scalars_keep_codes_as_written(tmp_path: Path) -> None:
    # PyYAML's YAML 1.1 reads No as false and 01 as 1; codes must stay as written.
    text = _MINIMAL.replace("status: {path: status}", "status: {path: s, value_map: st}")
    text += "value_maps:\n  st: {No: new, 01: in_progress, Off: on_hold, true: closed}\n"
    translator = _build(_write(tmp_path, text))
    base = {"soort": "incident", "id": "1", "tijd": "2026-01-05T10:00:00Z", "titel": "t"}
    for code, status in [
        ("No", IncidentStatus.NEW),
        ("01", IncidentStatus.IN_PROGRESS),
        ("off", IncidentStatus.ON_HOLD),
        (True, IncidentStatus.CLOSED),
    ]:
        entity = _one({**base, "s": code, "prio": 3}, translator).entity
        assert entity.status is status


def test_ci_cannot_have_comments(tmp_path: Path) -> None:
    ci = """\
ci:
  when: {path: soort, equals: ci}
  record_id: id
  updated_at: tijd
  event_key: [tijd]
  fields: {name: n, ci_class: k}
  comments: {path: notities, body: tekst}
"""
    assert "a CI has no comments" in str(_problems(_write(tmp_path, _MINIMAL + ci)))


# -- translation: leverancier-x ----------------------------------------------------------------


def test_local_times_are_read_in_the_mappings_zone_not_the_suppliers() -> None:
    # The mapping states Europe/Amsterdam; a supplier timezone of UTC does not change that.
    translator = MappedTranslator(_ctx(timezone=ZoneInfo("UTC")))
    entity = _one(_incident(), translator).entity
    assert entity.updated_at == datetime(2026, 11, 24, 14, 12, tzinfo=UTC)


def test_native_event_key_is_stable_and_follows_the_update() -> None:
    first = _one(_incident())
    again = _one(_incident())
    newer = _one(_incident(versie=4, gewijzigd_op="24-11-2026 15:20"))
    other = _one(_incident(id=884212))
    assert first.native_event_key == again.native_event_key == "incident:884211:3:24-11-2026 15:12"
    assert newer.native_event_key != first.native_event_key
    assert other.native_event_key != first.native_event_key
    assert first.recorded_at == first.entity.updated_at


def test_action_created_only_for_the_first_version() -> None:
    assert _one(_incident(versie=1)).action == "created"
    assert _one(_incident(versie="1")).action == "created"
    assert _one(_incident(versie=2)).action == "updated"


def test_hub_id_is_the_supplier_record() -> None:
    entity = _one(_incident()).entity
    assert entity.hub_id == hub_id("leverancier-x", EntityKind.INCIDENT, "884211")
    assert entity.supplier_ref.system is SupplierSystem.MAPPED


def test_supplier_value_map_override() -> None:
    translator = MappedTranslator(
        _ctx(value_maps={"meldingstatus": {"Geparkeerd": "on_hold"}, "prioriteit": {"P1": "P1"}})
    )
    entity = _one(_incident(status="Geparkeerd", prioriteit="P1"), translator).entity
    assert entity.status is IncidentStatus.ON_HOLD
    assert entity.hold_reason is HoldReason.OTHER  # not in the wachtreden map
    assert entity.priority is Priority.P1


def test_hold_reason_only_while_on_hold() -> None:
    assert _one(_incident(status="Opgelost")).entity.hold_reason is None
    held = _one(_incident(status="Wacht op derden")).entity
    assert held.hold_reason is HoldReason.AWAITING_SUPPLIER


def test_priority_matrix_when_prioriteit_is_absent() -> None:
    doc = _incident(impact="Hoog", urgentie="Hoog")
    del doc["prioriteit"]
    assert _one(doc).entity.priority is Priority.P1
    unknown = _one({**doc, "impact": None}).entity
    assert (unknown.priority, unknown.priority_given) == (None, False)


def test_no_contact_data_is_carried() -> None:
    dumped = orjson.dumps(_one(_incident()).entity.model_dump(mode="json"))
    assert b"s.bakker" not in dumped
    assert b"Sanne" not in dumped


def test_long_title_and_description_are_clipped_to_the_model() -> None:
    entity = _one(_incident(onderwerp="x" * 500, omschrijving="y" * 250_000)).entity
    assert len(entity.title) == 400
    assert entity.title.endswith("…")
    assert len(entity.description) == 200_000


def test_comment_without_text_is_skipped_and_ids_are_stable() -> None:
    notes = [
        {"id": 1, "tekst": "  ", "auteur": "a", "datum": "24-11-2026 14:10", "intern": False},
        {"id": 2, "tekst": "b", "auteur": "a", "datum": "24-11-2026 14:11", "intern": "false"},
    ]
    first = _one(_incident(notities=notes)).entity
    second = _one(_incident(notities=list(reversed(notes)), versie=4)).entity
    assert [c.body for c in first.comments] == ["b"]
    assert first.comments[0].visibility is Visibility.PUBLIC
    assert first.comments[0].comment_id == second.comments[0].comment_id


def test_unknown_visibility_code_is_an_invalid_value() -> None:
    notes = [{"id": 1, "tekst": "x", "datum": "24-11-2026 14:10", "intern": "soms"}]
    with pytest.raises(InvalidValue, match="intern"):
        _one(_incident(notities=notes))


def test_change_translates() -> None:
    _, _, value = leverancier_x_change(random.Random(1), 3, datetime(2026, 11, 24, tzinfo=UTC))
    translation = _one(value)
    assert translation.kind is EntityKind.CHANGE
    assert isinstance(translation.entity.status, ChangeStatus)


def test_ci_translates_with_defaults_and_deletion() -> None:
    translation = _one(_ci())
    entity = translation.entity
    assert isinstance(entity, ConfigurationItem)
    assert entity.gemeenten == ("GM0505", "GM0590")
    assert entity.technical_supplier == "leverancier-x"
    assert entity.status is CiStatus.OPERATIONAL
    assert entity.fb_team == "fb-zaken"
    assert translation.action == "updated"
    deleted = _one(_ci(verwijderd=True, versie=13))
    assert deleted.action == "deleted"
    assert deleted.entity.deleted is True
    assert deleted.native_event_key != translation.native_event_key
    text_list = _one(_ci(gemeenten="GM0505; GM0642")).entity
    assert text_list.gemeenten == ("GM0505", "GM0642")


def test_ci_with_a_gemeente_name_is_an_invalid_value() -> None:
    with pytest.raises(InvalidValue, match="gemeenten"):
        _one(_ci(gemeenten=["Dordrecht"]))


def test_dispatch_errors() -> None:
    with pytest.raises(MalformedPayload):
        _one(b"\xff\xfe")
    with pytest.raises(MalformedPayload):
        _one("storing")
    with pytest.raises(MalformedPayload, match="no 'type'"):
        _one({"id": 1})
    with pytest.raises(UnsupportedPayload, match="'vraag'"):
        _one(_incident(type="vraag"))
    with pytest.raises(UnsupportedPayload):
        _one(_incident(type=7))
    with pytest.raises(MalformedPayload, match="holds a dict"):
        _one(_incident(type={"naam": "storing"}))
    assert _one(_incident(type="  STORING ")).kind is EntityKind.INCIDENT


# -- the mapping language, on a mapping of its own --------------------------------------------

_LANGUAGE = """\
mapping_version: 1
timezone: UTC
value_maps:
  status: {open: in_progress, klaar: resolved}
  prio: {hoog: P2}
  zicht: {klant: public}
incident:
  when: {path: meta.soort, equals: [incident]}
  record_id: meta.id
  number: [meta.nummer, meta.ref]
  updated_at: {path: meta.gewijzigd, format: epoch_ms}
  version: {path: meta.gewijzigd_iso, format: iso8601}
  event_key: [meta.id, meta.gewijzigd]
  fields:
    title: {path: [kop, samenvatting], required: true}
    description: {path: regels, join: "\\n"}
    status: {path: meta.status, value_map: status, unmapped: keep}
    priority: {path: prio, value_map: prio, unmapped: default, default: P4}
    category: {constant: GIS}
    subcategory: {path: sub, default: Overig}
    assignee: behandelaars[-1].naam
    opened_at: {path: geopend, format: epoch_s}
    resolved_at: {path: klaar_op, format: "%Y%m%d%H%M%S", timezone: Europe/Amsterdam}
    closed_at: {path: dicht_op}
    reopened: {path: keer_heropend}
    ci.name: {constant: GeoViewer}
  comments:
    path: reacties
    body: tekst
    created_at: {path: op, format: iso8601}
    visibility: {path: voor, value_map: zicht, unmapped: default, default: internal}
"""


def _language_doc(**fields: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "meta": {
            "soort": "incident",
            "id": "A-1",
            "ref": "REF-1",
            "status": "open",
            "gewijzigd": 1764000000000,
            "gewijzigd_iso": "2025-11-24T16:00:00.500+00:00",
        },
        "samenvatting": "Samenvatting",
        "regels": ["eerste regel", None, "", "tweede regel"],
        "prio": "onbekend",
        "behandelaars": [{"naam": "Eerste"}, {"naam": "Laatste"}],
        "geopend": 1763990000,
        "klaar_op": "20260329023000",
        "dicht_op": "2026-03-29 03:00:00",
        "keer_heropend": 2,
        "reacties": [
            {"tekst": "later", "op": "2025-11-24T17:00:00+01:00", "voor": "klant"},
            {"tekst": "eerder", "op": "2025-11-24T15:00:00Z", "voor": "team"},
            {"tekst": "zonder tijd"},
        ],
    }
    doc.update(fields)
    return doc


def test_mapping_language_features(tmp_path: Path) -> None:
    translator = _build(_write(tmp_path, _LANGUAGE))
    translation = _one(_language_doc(), translator)
    entity: Incident = translation.entity
    assert entity.supplier_ref.number == "REF-1"  # the alternative path
    assert entity.title == "Samenvatting"  # the alternative path
    assert entity.description == "eerste regel\ntweede regel"  # join skips empty items
    assert entity.status is IncidentStatus.IN_PROGRESS
    assert entity.priority is Priority.P4  # unmapped: default
    assert entity.category == "GIS"  # constant
    assert entity.subcategory == "Overig"  # default
    assert entity.assignee == "Laatste"  # negative list index
    assert entity.ci is not None and entity.ci.name == "GeoViewer"  # a constant builds the group
    assert entity.updated_at == datetime(2025, 11, 24, 16, 0, tzinfo=UTC)  # epoch_ms
    assert entity.opened_at == datetime.fromtimestamp(1763990000, tz=UTC)  # epoch_s
    # field timezone: 02:30 on 29 March does not exist in Amsterdam; read as +01:00
    assert entity.resolved_at == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)
    assert entity.closed_at == datetime(2026, 3, 29, 3, 0, tzinfo=UTC)  # document zone: UTC
    assert entity.version == 1764000000500  # version from a datetime: epoch ms
    assert entity.reopened is True  # a count > 0, and the status is open
    assert [(c.body, c.visibility) for c in entity.comments] == [
        ("eerder", Visibility.INTERNAL),
        ("later", Visibility.PUBLIC),
        ("zonder tijd", Visibility.INTERNAL),
    ]
    assert entity.comments[2].created_at is None
    assert translation.native_event_key == "incident:A-1:A-1:1764000000000"
    assert translation.action == "updated"
    kept = _one(_language_doc(meta={**_language_doc()["meta"], "status": "Closed"}), translator)
    assert kept.entity.status is IncidentStatus.CLOSED  # unmapped: keep, a valid status
    with pytest.raises(InvalidValue):
        _one(_language_doc(meta={**_language_doc()["meta"], "status": "weg"}), translator)


def test_version_defaults_to_updated_at_in_epoch_ms(tmp_path: Path) -> None:
    translator = _build(_write(tmp_path, _MINIMAL))
    doc = {"soort": "incident", "id": "1", "tijd": "2026-01-05T10:00:00.250Z", "titel": "t"}
    entity = _one({**doc, "status": "new", "prio": "P3"}, translator).entity
    assert entity.version == int(datetime(2026, 1, 5, 10, tzinfo=UTC).timestamp() * 1000) + 250


def test_model_validation_failure_is_an_invalid_value(tmp_path: Path) -> None:
    text = _MINIMAL + "    assignment_group: {path: groep, join: ', '}\n"
    translator = _build(_write(tmp_path, text))
    doc = {"soort": "incident", "id": "1", "tijd": "2026-01-05T10:00:00Z", "titel": "t"}
    doc.update(status="new", prio="P3")
    assert _one({**doc, "groep": ["a", "b"]}, translator).entity.assignment_group == "a, b"
    with pytest.raises(InvalidValue, match="a text"):
        _one({**doc, "titel": {"nl": "t"}}, translator)
    with pytest.raises(InvalidValue, match="one of: new"):
        _one({**doc, "status": "nieuw"}, translator)


# -- helpers ----------------------------------------------------------------------------------


def test_path_syntax() -> None:
    assert compile_path("notities[0].tekst") == ("notities", 0, "tekst")
    assert compile_path("a.b[-1][2]") == ("a", "b", -1, 2)
    for bad in ("", "a..b", "[0]", "a[x]", "a.", "a[0"):
        with pytest.raises(PathSyntaxError):
            compile_path(bad)


def test_getters_tell_absent_from_misshapen() -> None:
    get = getter("a.b[1].c")
    assert get({"a": {"b": [{}, {"c": 3}]}}) == 3
    assert get({"a": {"b": [{}]}}) is None
    assert get({"a": None}) is None
    with pytest.raises(InvalidValue, match=r"'a\.b'"):
        get({"a": {"b": "tekst"}})
    with pytest.raises(InvalidValue, match="'a'"):
        getter("a.b")({"a": [1]})


def test_datetime_formats() -> None:
    assert check_format("%d-%m-%Y %H:%M") is None
    assert check_format("iso8601") is None
    assert "unknown strftime directive" in (check_format("%d-%m-%Y %K") or "")
    assert "not a datetime format" in (check_format("dd-mm-jjjj") or "")
    read = date_reader("%d-%m-%Y %H:%M", ZoneInfo("Europe/Amsterdam"))
    assert read("24-11-2026 14:05", "x") == datetime(2026, 11, 24, 13, 5, tzinfo=UTC)
    assert read("25-10-2026 02:30", "x") == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)
    assert read(" ", "x") is None
    for bad in ("2026-11-24 14:05", "30-02-2026 10:00", 1764000000):
        with pytest.raises(InvalidValue):
            read(bad, "x")
    with_zone = date_reader("%Y%m%d %H%M%S.%f%z", UTC)
    assert with_zone("20261124 140501.25+0100", "x") == datetime(
        2026, 11, 24, 13, 5, 1, 250000, tzinfo=UTC
    )
    slow = date_reader("%d %b %Y %I:%M %p", UTC)  # strptime directives
    assert slow("24 Nov 2026 02:05 PM", "x") == datetime(2026, 11, 24, 14, 5, tzinfo=UTC)
    epoch = date_reader("epoch_ms", UTC)
    with pytest.raises(InvalidValue):
        epoch(10**30, "x")
    with pytest.raises(InvalidValue):
        epoch(True, "x")


# -- generator --------------------------------------------------------------------------------


def test_generator_payloads_translate() -> None:
    rng = random.Random(3)
    now = datetime(2026, 3, 29, 1, 30, tzinfo=UTC)  # across the spring DST change
    kinds = set()
    for serial in range(300):
        topic, key, value = leverancier_x_mixed(rng, serial, now)
        assert topic == inbound_topic("leverancier-x")
        (translation,) = _TRANSLATOR.translate(InboundRecord(value=value, key=key))
        assert translation.entity.supplier_ref.number == key.decode()
        kinds.add(translation.kind)
    assert kinds == {EntityKind.INCIDENT, EntityKind.CHANGE, EntityKind.CI}
    for generator in (leverancier_x_incident, leverancier_x_change, leverancier_x_ci):
        assert generator(random.Random(5), 1, now) == generator(random.Random(5), 1, now)


# -- robustness -------------------------------------------------------------------------------

_json = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=25,
)
_KEYS = [
    "type",
    "id",
    "meldingnummer",
    "nummer",
    "onderwerp",
    "omschrijving",
    "status",
    "prioriteit",
    "impact",
    "urgentie",
    "applicatie",
    "aangemaakt_op",
    "gewijzigd_op",
    "gewijzigd_door",
    "versie",
    "heropend",
    "oplossing",
    "notities",
    "soort",
    "gepauzeerd",
    "geplande_start",
    "goedkeuring",
    "gemeenten",
    "verwijderd",
    "naam",
    "klasse",
]


def _only_connector_errors(value: bytes) -> None:
    with contextlib.suppress(ConnectorError):  # anything else fails the test
        _TRANSLATOR.translate(InboundRecord(value=value))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=200))
def test_arbitrary_bytes_raise_only_connector_errors(value: bytes) -> None:
    _only_connector_errors(value)


@settings(max_examples=300, deadline=None)
@given(_json)
def test_arbitrary_json_raises_only_connector_errors(document: Any) -> None:
    _only_connector_errors(orjson.dumps(document))


@settings(max_examples=600, deadline=None)
@given(
    st.sampled_from(["storing", "wijziging", "configuratie-item"]),
    st.lists(st.tuples(st.sampled_from(_KEYS), _json), min_size=1, max_size=4),
)
def test_mutated_payloads_raise_only_connector_errors(
    kind: str, mutations: list[tuple[str, Any]]
) -> None:
    now = datetime(2026, 11, 24, tzinfo=UTC)
    generator = {
        "storing": leverancier_x_incident,
        "wijziging": leverancier_x_change,
        "configuratie-item": leverancier_x_ci,
    }[kind]
    payload = copy.deepcopy(orjson.loads(generator(random.Random(1), 1, now)[2]))
    for key, value in mutations:
        payload[key] = value
    _only_connector_errors(orjson.dumps(payload))
