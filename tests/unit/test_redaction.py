"""BSN redaction (now part of services.privacy): AVG data minimisation for the feed."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from schemas import Comment, Incident, Visibility
from services.normaliser.transforms import BSN_PLACEHOLDER, is_bsn, redact_bsn, redact_entity
from services.privacy import PHONE_PLACEHOLDER, PrivacyPolicy, _mask
from tests.router_kit import incident


def _valid_bsn(prefix: int) -> str:
    """The first 8 digits from ``prefix``, the 9th chosen so the 11-proef holds (if it can)."""
    digits = f"{prefix:08d}"
    partial = sum(w * int(d) for w, d in zip((9, 8, 7, 6, 5, 4, 3, 2), digits, strict=True))
    last = partial % 11
    return digits + str(last) if last < 10 else ""


def test_known_bsn_passes_the_11_proef() -> None:
    assert is_bsn("111222333")
    assert is_bsn("123456782")
    assert not is_bsn("123456789")
    assert not is_bsn("000000000")


def test_redacts_plain_and_formatted_bsn_but_keeps_other_numbers() -> None:
    text = "BSN 111222333, ook 123.45.6782 en 123 45 6782; ticket 123456789 en tel 0612345678"
    out = redact_bsn(text)
    assert "111222333" not in out and "6782" not in out
    assert out.count(BSN_PLACEHOLDER) == 3
    assert "123456789" in out  # not a BSN (11-proef)
    assert "0612345678" not in out and PHONE_PLACEHOLDER in out  # a phone number, also masked


@given(st.integers(min_value=10_000_000, max_value=99_999_999), st.text(max_size=30))
def test_every_valid_bsn_is_removed(prefix: int, around: str) -> None:
    bsn = _valid_bsn(prefix)
    if not bsn or any(c.isdigit() for c in around):
        return
    assert bsn not in redact_bsn(f"{around} {bsn} {around}")


@given(st.text(max_size=200))
def test_redaction_never_grows_digits(text: str) -> None:
    out = redact_bsn(text)
    assert sum(c.isdigit() for c in out) <= sum(c.isdigit() for c in text)


@given(st.text(alphabet="0123456789 .-+()\n", max_size=60))
def test_the_digit_count_shortcut_never_changes_the_result(text: str) -> None:
    """The cheap gate (no '@', no chain of nine digits) never skips a phone number or BSN."""
    assert redact_bsn(text) == _mask(text, PrivacyPolicy(), True, True)


def _incident(**changes: object) -> Incident:
    """The router kit's incident, with free text holding a few digits, and ``changes``."""
    base = incident(title="Printer 12 kapot", description="Sinds 2026-11-24 op verdieping 3.")
    return Incident.model_validate({**base.model_dump(), **changes})


def test_an_entity_without_nine_digits_is_returned_as_it_is() -> None:
    incident = _incident()
    assert redact_entity(incident) is incident


def test_a_bsn_in_any_free_text_field_of_an_entity_is_removed() -> None:
    comment = Comment(comment_id="c", body="Burger 111222333 belde", visibility=Visibility.PUBLIC)
    incident = _incident(
        title="Melding over 123.45.6782",
        comments=(comment,),
        resolution={"code": "solved", "notes": "BSN 111 22 2333 gecorrigeerd"},
    )
    out = redact_entity(incident)
    assert isinstance(out, Incident) and out.resolution is not None
    assert out.title == f"Melding over {BSN_PLACEHOLDER}"
    assert out.comments[0].body == f"Burger {BSN_PLACEHOLDER} belde"
    assert out.resolution.notes == f"BSN {BSN_PLACEHOLDER} gecorrigeerd"
    assert out.description == incident.description


def test_digits_spread_over_fields_are_not_taken_for_a_bsn() -> None:
    incident = _incident(title="Kamer 1234", description="Toestel 12345")
    assert redact_entity(incident) == incident
