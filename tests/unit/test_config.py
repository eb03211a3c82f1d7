"""services.config: the example config loads; every kind of mistake names file, line, reason."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from services.config import (
    CI_OWNERS,
    ConfigError,
    ConfigProblem,
    EmailChannel,
    SchakelConfig,
    Settings,
    TopdeskChannel,
    UnknownGemeenteError,
    UnknownSupplierError,
    UnknownTeamError,
    WebhookChannel,
    get_settings,
    load_config,
)

EXAMPLE = Path(__file__).resolve().parents[2] / "config" / "schakel.yaml"

DRECHTSTEDEN = {
    "GM0482": "Alblasserdam",
    "GM0505": "Dordrecht",
    "GM0523": "Hardinxveld-Giessendam",
    "GM0531": "Hendrik-Ido-Ambacht",
    "GM0590": "Papendrecht",
    "GM0610": "Sliedrecht",
    "GM0642": "Zwijndrecht",
}

MINIMAL = """\
suppliers:
  - id: kpn
    name: KPN
    system: servicenow
    kvk: "90000011"
    system_name: servicenow-prod
    credentials:
      webhook_secret_env: SCHAKEL_SECRET_KPN_WEBHOOK
    contract:
      name: DAP-2025
      sla:
        - {priority: P1, response_minutes: 15, resolve_minutes: 240, business_hours: false}
        - {priority: P3, response_minutes: 120, resolve_minutes: 1080, business_hours: true}
  - id: leverancier-x
    name: Leverancier X
    system: mapped
    kvk: "90000055"
    system_name: servicedesk-x
    mapping: mappings/leverancier-x.yaml
gemeenten:
  - code: GM0505
    name: Dordrecht
    default_team: fb-zaken
    teams:
      - id: fb-zaken
        name: FB zaken
        gemma_components: [Zaakregistratiecomponent]
        channels:
          - type: webhook
            url: http://127.0.0.1:8090/fb/GM0505/fb-zaken
            secret_env: SCHAKEL_SECRET_FB_GM0505_ZAKEN
      - id: fb-belastingen
        name: FB belastingen
        channels:
          - type: email
            to: [fb-belastingen@dordrecht.example]
            sender: schakel@regie.example
  - code: GM0642
    name: Zwijndrecht
    default_team: fb-zaken
    teams:
      - id: fb-zaken
        name: FB zaken
        channels:
          - type: topdesk
            base_url: http://127.0.0.1:8091/tas/api/
            username_env: SCHAKEL_SECRET_TOPDESK_USER
            password_env: SCHAKEL_SECRET_TOPDESK_PASSWORD
routing:
  rules:
    - id: zaaksysteem
      description: Shared zaaksysteem
      match:
        ci: [Zaaksysteem Drechtsteden]
      recipients:
        - {gemeente: ci-owners}
    - id: belastingen
      description: Taxes
      match:
        keywords: [belasting]
      recipients:
        - {gemeente: GM0505, team: fb-belastingen}
"""


def _write(directory: Path, text: str, name: str = "schakel.yaml") -> Path:
    path = directory / name
    path.write_text(text, encoding="utf-8")
    return path


def _replace(old: str, new: str, text: str = MINIMAL) -> str:
    assert text.count(old) == 1, f"{old!r} must occur exactly once"
    return text.replace(old, new)


def _line_of(text: str, needle: str, occurrence: int = 1) -> int:
    """1-based line of the ``occurrence``-th line containing ``needle``."""
    hits = [n for n, line in enumerate(text.splitlines(), start=1) if needle in line]
    return hits[occurrence - 1]


def _single_problem(path: Path) -> ConfigProblem:
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert len(info.value.problems) == 1, str(info.value)
    return info.value.problems[0]


# --- the example and the happy path -----------------------------------------------------


def test_example_config_loads() -> None:
    config = load_config(EXAMPLE)

    assert {g.code: g.name for g in config.gemeenten} == DRECHTSTEDEN
    assert [s.id for s in config.suppliers] == [
        "kpn",
        "centric",
        "zaakplatform",
        "werkplekdienst",
        "leverancier-x",
    ]
    assert [s.system for s in config.suppliers] == [
        "servicenow",
        "topdesk",
        "jira",
        "xurrent",
        "mapped",
    ]
    assert config.supplier("kpn").source_urn == "urn:nld:kvk:90000011:systeem:servicenow-prod"
    assert config.source_path == EXAMPLE
    assert config.mapping_path("leverancier-x") == EXAMPLE.parent / "mappings/leverancier-x.yaml"
    assert config.mapping_path("kpn") is None
    assert config.routing.triage_team == "regie-triage"


def test_example_config_details() -> None:
    config = load_config(EXAMPLE)
    # The anchored SLA table is shared by two contracts.
    kpn, werkplek = config.supplier("kpn").contract, config.supplier("werkplekdienst").contract
    assert kpn is not None
    assert werkplek is not None
    assert kpn.sla == werkplek.sla
    p1 = kpn.target("P1")
    assert p1 is not None
    assert not p1.business_hours
    assert config.supplier("centric").value_maps["status"]["Wacht op leverancier"] == "on_hold"
    assert str(config.supplier("leverancier-x").tz) == "Europe/Amsterdam"

    dordrecht = config.gemeente("GM0505")
    channel_types = {type(c) for t in dordrecht.teams for c in t.channels}
    assert channel_types == {WebhookChannel, EmailChannel, TopdeskChannel}
    assert dordrecht.responsible_team("zaakregistratiecomponent").id == "fb-zaken"
    assert dordrecht.responsible_team("Onbekende component").id == dordrecht.default_team
    assert dordrecht.responsible_team(None).id == dordrecht.default_team
    for gemeente in config.gemeenten:
        for team in gemeente.teams:
            for channel in team.channels:
                url = getattr(channel, "url", None) or getattr(channel, "base_url", None)
                assert url is None or url.host == "127.0.0.1"
    assert any(r.gemeente == CI_OWNERS for rule in config.routing.rules for r in rule.recipients)


def test_lookups_raise_key_errors() -> None:
    config = load_config(EXAMPLE)
    with pytest.raises(UnknownSupplierError) as supplier:
        config.supplier("nope")
    assert isinstance(supplier.value, KeyError)
    assert isinstance(supplier.value, ConfigError)
    assert str(supplier.value) == "unknown supplier 'nope'"
    with pytest.raises(KeyError):
        config.gemeente("GM9999")
    with pytest.raises(UnknownGemeenteError):
        config.gemeente("GM9999")
    with pytest.raises(UnknownTeamError):
        config.gemeente("GM0505").team("fb-nope")


def test_minimal_config_loads(tmp_path: Path) -> None:
    config = load_config(_write(tmp_path, MINIMAL))
    assert isinstance(config, SchakelConfig)
    assert config.supplier("kpn").timezone == "Europe/Amsterdam"
    assert config.supplier("kpn").max_payload_bytes == 1_048_576
    assert config.mapping_path("leverancier-x") == tmp_path / "mappings/leverancier-x.yaml"


def test_config_is_frozen(tmp_path: Path) -> None:
    config = load_config(_write(tmp_path, MINIMAL))
    with pytest.raises(ValueError, match="frozen"):
        config.supplier("kpn").name = "other"  # type: ignore[misc]


def test_merge_keys_and_anchors(tmp_path: Path) -> None:
    text = _replace(
        "    name: Leverancier X\n",
        "    name: Leverancier X\n    timezone: UTC\n",
    )
    text = _replace(
        "  - id: leverancier-x\n",
        "  - &x-defaults\n    id: leverancier-x\n",
        text,
    )
    text = text.replace(
        "gemeenten:\n",
        '  - <<: *x-defaults\n    id: leverancier-y\n    kvk: "90000066"\ngemeenten:\n',
    )
    config = load_config(_write(tmp_path, text))
    merged = config.supplier("leverancier-y")
    assert merged.timezone == "UTC"
    assert merged.kvk == "90000066"
    assert merged.mapping == "mappings/leverancier-x.yaml"


# --- one kind of mistake each -----------------------------------------------------------


def test_bad_cbs_code(tmp_path: Path) -> None:
    text = _replace("  - code: GM0642\n", "  - code: GM642\n")
    path = _write(tmp_path, text)
    problem = _single_problem(path)
    assert problem.file == str(path)
    assert problem.line == _line_of(text, "code: GM642")
    assert problem.column == len("  - code: ") + 1
    assert problem.location == "gemeenten[1].code"
    assert "pattern" in problem.message
    assert str(problem) == (
        f"{path}:{problem.line}:{problem.column}: gemeenten[1].code: {problem.message}"
    )


def test_unknown_team_in_recipient(tmp_path: Path) -> None:
    text = _replace(
        "{gemeente: GM0505, team: fb-belastingen}", "{gemeente: GM0642, team: fb-belastingen}"
    )
    problem = _single_problem(_write(tmp_path, text))
    assert problem.line == _line_of(text, "team: fb-belastingen}")
    assert problem.location == "routing.rules[1].recipients[0].team"
    assert "GM0642 (Zwijndrecht) has no team 'fb-belastingen'" in problem.message


def test_unknown_gemeente_in_recipient(tmp_path: Path) -> None:
    text = _replace("{gemeente: GM0505, team", "{gemeente: GM0590, team")
    problem = _single_problem(_write(tmp_path, text))
    assert problem.line == _line_of(text, "{gemeente: GM0590")
    assert problem.location == "routing.rules[1].recipients[0].gemeente"
    assert "unknown gemeente 'GM0590'" in problem.message


def test_ci_owners_with_a_team_nobody_has(tmp_path: Path) -> None:
    text = _replace("{gemeente: ci-owners}", "{gemeente: ci-owners, team: fb-nope}")
    problem = _single_problem(_write(tmp_path, text))
    assert problem.location == "routing.rules[0].recipients[0].team"
    assert problem.line == _line_of(text, "fb-nope")


def test_unknown_supplier_in_rule(tmp_path: Path) -> None:
    text = _replace("        keywords: [belasting]\n", "        supplier: [kpn, centric]\n")
    problem = _single_problem(_write(tmp_path, text))
    assert problem.location == "routing.rules[1].match.supplier[1]"
    assert problem.line == _line_of(text, "supplier: [kpn, centric]")
    assert problem.column == len("        supplier: [kpn, ") + 1


def test_duplicate_supplier_id(tmp_path: Path) -> None:
    text = _replace("  - id: leverancier-x\n", "  - id: kpn\n")
    problem = _single_problem(_write(tmp_path, text))
    assert problem.line == _line_of(text, "- id: kpn", occurrence=2)
    assert problem.location == "suppliers[1].id"
    assert "duplicate supplier id 'kpn'" in problem.message


def test_duplicate_team_id_and_bad_default_team(tmp_path: Path) -> None:
    text = _replace("      - id: fb-belastingen\n", "      - id: fb-zaken\n")
    text = _replace(
        "    default_team: fb-zaken\n    teams:\n      - id: fb-zaken\n        "
        "name: FB zaken\n        channels",
        "    default_team: fb-zakn\n    teams:\n      - id: fb-zaken\n        "
        "name: FB zaken\n        channels",
        text,
    )
    with pytest.raises(ConfigError) as info:
        load_config(_write(tmp_path, text))
    found = {(p.location, p.line) for p in info.value.problems}
    assert found == {
        ("gemeenten[0].teams[1].id", _line_of(text, "- id: fb-zaken", occurrence=2)),
        ("gemeenten[1].default_team", _line_of(text, "default_team: fb-zakn")),
    }


def test_duplicate_yaml_key(tmp_path: Path) -> None:
    text = _replace(
        "    system_name: servicedesk-x\n", '    system_name: servicedesk-x\n    kvk: "90000066"\n'
    )
    problem = _single_problem(_write(tmp_path, text))
    assert problem.line == _line_of(text, 'kvk: "90000066"')
    assert problem.column == 5
    assert problem.location == "suppliers[1].kvk"
    first = _line_of(text, 'kvk: "90000055"')
    assert f"first defined on line {first}" in problem.message


def test_duplicate_key_in_flow_mapping(tmp_path: Path) -> None:
    text = _replace("{gemeente: ci-owners}", "{gemeente: ci-owners, gemeente: GM0505}")
    problem = _single_problem(_write(tmp_path, text))
    assert problem.line == _line_of(text, "gemeente: GM0505}")
    assert "duplicate key 'gemeente'" in problem.message


def test_yaml_syntax_error(tmp_path: Path) -> None:
    text = _replace("    name: Zwijndrecht\n", "    name: [Zwijndrecht\n")
    path = _write(tmp_path, text)
    problem = _single_problem(path)
    assert problem.file == str(path)
    assert problem.line is not None
    assert problem.line in (_line_of(text, "[Zwijndrecht"), _line_of(text, "[Zwijndrecht") + 1)
    assert "flow sequence" in problem.message


def test_yaml_tab_indentation(tmp_path: Path) -> None:
    text = _replace("    name: Dordrecht\n", "\tname: Dordrecht\n")
    problem = _single_problem(_write(tmp_path, text))
    assert problem.line == _line_of(text, "\tname: Dordrecht")


def test_missing_mapping_for_mapped_supplier(tmp_path: Path) -> None:
    text = _replace("    mapping: mappings/leverancier-x.yaml\n", "")
    problem = _single_problem(_write(tmp_path, text))
    assert problem.location == "suppliers[1].mapping"
    assert problem.line == _line_of(text, "- id: leverancier-x")
    assert "required when system is 'mapped'" in problem.message


def test_mapping_on_a_supplier_with_a_known_tool(tmp_path: Path) -> None:
    text = _replace(
        "    system_name: servicenow-prod\n",
        "    system_name: servicenow-prod\n    mapping: mappings/kpn.yaml\n",
    )
    problem = _single_problem(_write(tmp_path, text))
    assert problem.location == "suppliers[0].mapping"
    assert problem.line == _line_of(text, "mapping: mappings/kpn.yaml")


def test_missing_required_field_points_at_its_mapping(tmp_path: Path) -> None:
    text = _replace("    name: Zwijndrecht\n", "")
    problem = _single_problem(_write(tmp_path, text))
    assert problem.location == "gemeenten[1].name"
    assert problem.line == _line_of(text, "- code: GM0642")
    assert problem.message == "Field required"


def test_unknown_key_is_an_error(tmp_path: Path) -> None:
    text = _replace("    system: servicenow\n", "    system: servicenow\n    sytem_name: x\n")
    problem = _single_problem(_write(tmp_path, text))
    assert problem.location == "suppliers[0].sytem_name"
    assert problem.line == _line_of(text, "sytem_name: x")


def test_error_inside_a_channel_skips_the_union_tag(tmp_path: Path) -> None:
    text = _replace("sender: schakel@regie.example", "sender: schakel")
    problem = _single_problem(_write(tmp_path, text))
    assert problem.location == "gemeenten[0].teams[1].channels[0].sender"
    assert problem.line == _line_of(text, "sender: schakel")


def test_unknown_channel_type(tmp_path: Path) -> None:
    text = _replace("          - type: topdesk\n", "          - type: teams\n")
    problem = _single_problem(_write(tmp_path, text))
    assert problem.location == "gemeenten[1].teams[0].channels[0]"
    assert problem.line == _line_of(text, "- type: teams")


def test_kvk_as_bare_number(tmp_path: Path) -> None:
    text = _replace('kvk: "90000011"', "kvk: 90000011")
    problem = _single_problem(_write(tmp_path, text))
    assert problem.location == "suppliers[0].kvk"
    assert "quoted string" in problem.message


def test_secret_instead_of_env_var_name(tmp_path: Path) -> None:
    text = _replace("webhook_secret_env: SCHAKEL_SECRET_KPN_WEBHOOK", "webhook_secret_env: s3cr3t!")
    problem = _single_problem(_write(tmp_path, text))
    assert problem.location == "suppliers[0].credentials.webhook_secret_env"
    assert "environment variable" in problem.message
    assert "s3cr3t" not in str(problem)


def test_duplicate_sla_priority_and_bad_timezone(tmp_path: Path) -> None:
    text = _replace("{priority: P3, response", "{priority: P1, response")
    text = _replace(
        "    mapping: mappings/leverancier-x.yaml\n",
        "    mapping: mappings/leverancier-x.yaml\n    timezone: Europe/Drechtsteden\n",
        text,
    )
    with pytest.raises(ConfigError) as info:
        load_config(_write(tmp_path, text))
    assert [(p.location, p.line) for p in info.value.problems] == [
        ("suppliers[0].contract.sla[1].priority", _line_of(text, "{priority: P1, response", 2)),
        ("suppliers[1].timezone", _line_of(text, "Europe/Drechtsteden")),
    ]
    assert str(info.value).count("\n") == 1


def test_empty_rule_match(tmp_path: Path) -> None:
    text = _replace("        ci: [Zaaksysteem Drechtsteden]\n", "        {}\n")
    problem = _single_problem(_write(tmp_path, text))
    assert problem.location == "routing.rules[0].match"
    assert problem.line == _line_of(text, "        {}")


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nope.yaml"
    problem = _single_problem(path)
    assert problem.file == str(path)
    assert problem.line is None
    assert str(problem) == f"{path}: no such file"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "the file is empty"),
        (b"# only a comment\n", "the file is empty"),
        (b"suppliers: []\n\xff\n", "not valid UTF-8"),
        (b"a: 1\n---\nb: 2\n", "expected a single document"),
        (b"- just\n- a list\n", "valid dictionary"),
        (b"a: !!python/object:os.system x\n", "could not determine a constructor"),
        (b"a: &x [*x]\n", "recursive alias"),
        (b"? [a, b]\n: c\n", "plain scalar"),
        (b"a: 2025-02-30\n", "cannot read value"),
    ],
)
def test_broken_files(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "schakel.yaml"
    path.write_bytes(content)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert message in str(info.value)
    assert all(p.file == str(path) for p in info.value.problems)


def test_several_problems_are_reported_in_file_order(tmp_path: Path) -> None:
    text = _replace('kvk: "90000055"', 'kvk: "123"')
    text = _replace("  - code: GM0642\n", "  - code: 0642\n", text)
    text = _replace("    system: servicenow\n", "    system: remedy\n", text)
    with pytest.raises(ConfigError) as info:
        load_config(_write(tmp_path, text))
    lines = [p.line or 0 for p in info.value.problems]
    assert lines == sorted(lines)
    assert [p.location for p in info.value.problems] == [
        "suppliers[0].system",
        "suppliers[1].kvk",
        "gemeenten[1].code",
    ]
    assert len(str(info.value).splitlines()) == 3


def test_deep_nesting_is_a_config_error(tmp_path: Path) -> None:
    problem = _single_problem(_write(tmp_path, "a: " + "[" * 5000 + "]" * 5000 + "\n"))
    assert problem.message == "nested too deeply"


def test_direct_construction_names_the_exact_location() -> None:
    data = yaml.safe_load(_replace("  - id: leverancier-x\n", "  - id: kpn\n"))
    with pytest.raises(ValidationError, match=r"suppliers\[1\]\.id: duplicate supplier id 'kpn'"):
        SchakelConfig.model_validate(data)


# --- settings ---------------------------------------------------------------------------


def test_settings_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("KAFKA_BOOTSTRAP", "CONFIG", "LOG_FORMAT", "LOG_LEVEL", "STORE_URL"):
        monkeypatch.delenv(f"SCHAKEL_{name}", raising=False)
    current = Settings()
    assert current.kafka_bootstrap == "127.0.0.1:9092"
    assert current.config_path == Path("config/schakel.yaml")
    assert current.log_format == "auto"
    assert current.log_level == "INFO"
    assert current.store_url == "sqlite+aiosqlite:///schakel.db"
    assert (current.http_host, current.http_port) == ("127.0.0.1", 8080)


def test_settings_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SCHAKEL_KAFKA_BOOTSTRAP", "broker:9093")
    monkeypatch.setenv("SCHAKEL_CONFIG", "/etc/schakel/schakel.yaml")
    monkeypatch.setenv("SCHAKEL_LOG_FORMAT", "json")
    monkeypatch.setenv("SCHAKEL_LOG_LEVEL", "debug")
    monkeypatch.setenv("SCHAKEL_HTTP_PORT", "9000")
    monkeypatch.setenv("CONFIG_PATH", "/not/this/one.yaml")
    get_settings.cache_clear()
    try:
        current = get_settings()
        assert get_settings() is current
        assert current.kafka_bootstrap == "broker:9093"
        assert current.config_path == Path("/etc/schakel/schakel.yaml")
        assert current.log_format == "json"
        assert current.log_level == "DEBUG"
        assert current.log_level_number == 10
        assert current.http_port == 9000
    finally:
        get_settings.cache_clear()


def test_settings_reject_bad_values(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SCHAKEL_LOG_FORMAT", "xml")
    with pytest.raises(ValueError, match="log_format"):
        Settings()


# --- robustness -------------------------------------------------------------------------

_EXAMPLE_TEXT = EXAMPLE.read_text(encoding="utf-8")
_EXAMPLE_DATA: Any = yaml.safe_load(_EXAMPLE_TEXT)

_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=12)
    | st.sampled_from(["P1", "GM0505", "ci-owners", "kpn", "webhook", "mapped", "fb-zaken"]),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=6,
)


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield prefix
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _paths(value, (*prefix, index))


def _mutate(doc: Any, data: st.DataObject) -> Any:
    path = data.draw(st.sampled_from(list(_paths(doc))))
    if not path:
        return data.draw(_values)
    parent = doc
    for item in path[:-1]:
        parent = parent[item]
    last = path[-1]
    action = data.draw(st.sampled_from(["delete", "replace", "duplicate", "rename"]))
    if action == "delete":
        del parent[last]
    elif action == "replace":
        parent[last] = data.draw(_values)
    elif action == "duplicate" and isinstance(parent, list):
        parent.insert(last, copy.deepcopy(parent[last]))
    elif action == "rename" and isinstance(parent, dict):
        parent[data.draw(st.text(max_size=10))] = parent.pop(last)
    return doc


def _assert_loads_or_config_error(path: Path) -> None:
    """Loading gives a config or a ConfigError with problems in this file, nothing else."""
    try:
        outcome: SchakelConfig | ConfigError = load_config(path)
    except ConfigError as exc:
        outcome = exc
    if isinstance(outcome, ConfigError):
        assert outcome.problems
        assert all(p.file == str(path) for p in outcome.problems)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_mutated_config_loads_or_raises_config_error(
    data: st.DataObject, tmp_path_factory: pytest.TempPathFactory
) -> None:
    doc = copy.deepcopy(_EXAMPLE_DATA)
    for _ in range(data.draw(st.integers(min_value=1, max_value=3))):
        doc = _mutate(doc, data)
    path = tmp_path_factory.mktemp("mutated") / "schakel.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    _assert_loads_or_config_error(path)


_yaml_chars = st.sampled_from(list(":-[]{}&*!|>'\"#%@`,?<~ \t\n0123456789abcGMP"))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    edits=st.lists(
        st.tuples(
            st.integers(min_value=0, max_value=len(_EXAMPLE_TEXT)),
            st.integers(min_value=0, max_value=3),
            st.text(_yaml_chars, max_size=4) | st.binary(max_size=3).map(lambda b: b.hex()),
        ),
        min_size=1,
        max_size=4,
    ),
    raw_garbage=st.binary(max_size=4),
)
def test_edited_text_loads_or_raises_config_error(
    edits: list[tuple[int, int, str]],
    raw_garbage: bytes,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    text = _EXAMPLE_TEXT
    for position, deleted, inserted in edits:
        text = text[:position] + inserted + text[position + deleted :]
    path = tmp_path_factory.mktemp("edited") / "schakel.yaml"
    content = text.encode("utf-8")
    middle = len(content) // 2
    path.write_bytes(content[:middle] + raw_garbage + content[middle:])
    _assert_loads_or_config_error(path)
