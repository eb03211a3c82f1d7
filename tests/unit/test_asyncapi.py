"""docs/asyncapi.yaml is what the code generates, covers every topic, and is valid AsyncAPI 3.0
(against the specification's JSON schema from @asyncapi/specs, vendored in deploy/schemas)."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from schemas.topics import topic_specs
from services.asyncapi import document, render
from services.config import SchakelConfig

REPO = Path(__file__).resolve().parents[2]


def _errors(doc: dict[str, Any]) -> list[str]:
    schema = json.loads((REPO / "deploy" / "schemas" / "asyncapi-3.0.0.json").read_text())
    return [e.message for e in jsonschema.Draft7Validator(schema).iter_errors(doc)]


def test_committed_document_is_what_the_code_generates() -> None:
    assert (REPO / "docs" / "asyncapi.yaml").read_text() == render(), (
        "docs/asyncapi.yaml drifted from the code: run `schakel asyncapi`"
    )


def test_the_document_is_valid_asyncapi_3_and_a_broken_one_is_not() -> None:
    committed = yaml.safe_load((REPO / "docs" / "asyncapi.yaml").read_text())
    assert committed["asyncapi"] == "3.0.0"
    assert _errors(committed) == []
    broken = copy.deepcopy(committed)
    broken["operations"]["incidents"]["action"] = "publish"  # AsyncAPI 2's word
    assert _errors(broken)


def test_every_hub_topic_is_a_channel_with_a_message_schema(
    example_config: SchakelConfig,
) -> None:
    doc = document()
    patterns = [
        re.compile("^" + re.sub(r"\\\{[a-z]+\\\}", "[^.]+", re.escape(c["address"])) + "$")
        for c in doc["channels"].values()
    ]
    specs = topic_specs(
        [s.id for s in example_config.suppliers], [g.code for g in example_config.gemeenten]
    )
    for spec in specs:
        assert any(p.match(spec.name) for p in patterns), f"{spec.name} has no channel"
    schemas = doc["components"]["schemas"]
    for name, message in doc["components"]["messages"].items():
        ref = message["payload"].get("$ref", "")
        assert ref.startswith("#/components/schemas/"), name
        assert ref.rsplit("/", 1)[1].replace("%5B", "[").replace("%5D", "]") in schemas, name
    incidents = doc["components"]["messages"]["incidents:Message"]["payload"]["$ref"]
    assert "Incident" in incidents
