"""Every connector, fed arbitrary bytes or arbitrary JSON: the outcome is always a valid
translation or a ConnectorError with a reason. Nothing else raises out; nothing hangs
(pytest-timeout bounds every example run)."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connectors import ConnectorError, InboundRecord, Translator, translator_for
from schemas import Change, ConfigurationItem, Incident, SupplierSystem
from tests.contract._support import context_for, fixture_files, load_fixture

SYSTEMS = list(SupplierSystem)
_TRANSLATORS: dict[SupplierSystem, Translator] = {}


def _translator(system: SupplierSystem) -> Translator:
    if system not in _TRANSLATORS:
        _TRANSLATORS[system] = translator_for(context_for(system))
    return _TRANSLATORS[system]


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**64 - 1)
    | st.floats(allow_nan=False)
    | st.text(max_size=30),
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=15), children, max_size=6)
    ),
    max_leaves=30,
)


def _outcome(system: SupplierSystem, value: bytes, headers: dict[str, bytes] | None = None) -> None:
    record = InboundRecord(value=value, headers=headers or {}, topic="property")
    try:
        translations = _translator(system).translate(record)
    except ConnectorError as exc:
        reason = exc.reason
    else:
        reason = None
    if reason is not None:
        assert reason.strip(), "a dead letter needs a readable reason"
        return
    assert translations
    for translation in translations:
        assert isinstance(translation.entity, Incident | Change | ConfigurationItem)
        assert translation.native_event_key


@pytest.mark.parametrize("system", SYSTEMS, ids=[s.value for s in SYSTEMS])
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(value=st.binary(max_size=300))
def test_arbitrary_bytes(system: SupplierSystem, value: bytes) -> None:
    _outcome(system, value)


@pytest.mark.parametrize("system", SYSTEMS, ids=[s.value for s in SYSTEMS])
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(document=json_values)
def test_arbitrary_json(system: SupplierSystem, document: Any) -> None:
    _outcome(system, orjson.dumps(document))


def _valid_documents(system: SupplierSystem) -> list[tuple[dict[str, Any], dict[str, bytes]]]:
    out = []
    for path in fixture_files(system.value):
        record, spec = load_fixture(path)
        if "expected" in spec and isinstance(spec.get("payload"), dict):
            out.append((spec["payload"], dict(record.headers)))
    return out


@pytest.mark.parametrize("system", SYSTEMS, ids=[s.value for s in SYSTEMS])
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_valid_payloads_with_one_field_replaced(
    system: SupplierSystem, data: st.DataObject
) -> None:
    documents = _valid_documents(system)
    document, headers = data.draw(st.sampled_from(documents))
    mutated = dict(document)
    if mutated:
        key = data.draw(st.sampled_from(sorted(mutated)))
        mutated[key] = data.draw(json_values)
    _outcome(system, orjson.dumps(mutated), headers)
