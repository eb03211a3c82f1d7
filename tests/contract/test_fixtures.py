"""Every fixture payload translates to exactly its expected common-model result."""

from __future__ import annotations

from pathlib import Path

import pytest

from connectors import ConnectorError, translator_for
from schemas import SupplierSystem
from tests.contract._support import FIXTURES, context_for, fixture_files, load_fixture, render

CASES = fixture_files()


def _id(path: Path) -> str:
    return str(path.relative_to(FIXTURES).with_suffix(""))


@pytest.mark.parametrize("path", CASES, ids=[_id(p) for p in CASES])
def test_fixture_translates_as_expected(path: Path) -> None:
    system = SupplierSystem(path.relative_to(FIXTURES).parts[0])
    record, spec = load_fixture(path)
    translator = translator_for(context_for(system))
    if "expected_error" in spec:
        with pytest.raises(ConnectorError) as caught:
            translator.translate(record)
        assert type(caught.value).__name__ == spec["expected_error"]
        if "expected_reason" in spec:  # the sentence the regie reads on the dead letter
            assert caught.value.reason == spec["expected_reason"]
        return
    assert render(list(translator.translate(record))) == spec["expected"]


def test_every_system_and_entity_has_at_least_15_cases() -> None:
    counts: dict[str, int] = {}
    for path in CASES:
        system, entity = path.relative_to(FIXTURES).parts[:2]
        counts[f"{system}/{entity}"] = counts.get(f"{system}/{entity}", 0) + 1
    thin = {k: v for k, v in counts.items() if v < 15}
    assert not thin, f"fewer than 15 fixtures: {thin}"
