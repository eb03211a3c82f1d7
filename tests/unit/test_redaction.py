"""BSN redaction: AVG data minimisation for the feed and routed tickets."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from services.normaliser.transforms import BSN_PLACEHOLDER, is_bsn, redact_bsn


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
    assert "123456789" in out and "0612345678" in out


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
