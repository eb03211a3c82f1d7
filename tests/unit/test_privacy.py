"""Personal-data minimisation (services.privacy): property tests over whole entities."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import orjson
import pytest
import structlog
from hypothesis import example, given, settings
from hypothesis import strategies as st

from schemas import (
    CiRef,
    Comment,
    Incident,
    IncidentStatus,
    Origin,
    Priority,
    Resolution,
    ResolutionCode,
    SupplierRef,
    SupplierSystem,
    Visibility,
)
from services.logs import configure_logging, get_logger
from services.privacy import (
    EMAIL_PLACEHOLDER,
    IBAN_PLACEHOLDER,
    PHONE_PLACEHOLDER,
    Minimiser,
    PrivacyPolicy,
    minimise_text,
)

# -- generators of personal data, in the forms people write it -------------------------------

_LOCAL = st.from_regex(r"[a-z][a-z0-9]{0,8}([._+-][a-z0-9]{1,8}){0,2}", fullmatch=True)
_DOMAIN = st.from_regex(r"[a-z][a-z0-9]{1,10}(-[a-z0-9]{1,6})?(\.[a-z]{2,8}){0,1}", fullmatch=True)
emails = st.builds(
    lambda local, domain, tld: f"{local}@{domain}.{tld}",
    _LOCAL,
    _DOMAIN,
    st.sampled_from(["nl", "com", "org", "eu", "amsterdam"]),
)


@st.composite
def phones(draw: st.DrawFn) -> str:
    """A Dutch phone number: mobile (06), 3- or 4-digit area code; national or +31/0031."""
    kind = draw(st.sampled_from(["mobile", "area3", "area4"]))
    digits = draw(st.text("0123456789", min_size=8, max_size=8))
    if kind == "mobile":
        area, rest = "6", digits
    elif kind == "area3":
        area, rest = draw(st.sampled_from(["10", "20", "30", "40", "70", "78"])), digits[:7]
    else:
        area, rest = draw(st.sampled_from(["181", "172", "318", "546"])), digits[:6]
    sep = draw(st.sampled_from(["", " ", "-", "."]))
    split = draw(st.integers(min_value=0, max_value=len(rest)))
    grouped = rest[:split] + (sep if 0 < split < len(rest) else "") + rest[split:]
    prefix = draw(st.sampled_from(["0", "+31 ", "+31", "0031 ", "+31 (0)", "+31-"]))
    return f"{prefix}{area}{draw(st.sampled_from(['', ' ', '-']))}{grouped}"


def _iban(bank: str, account: str) -> str:
    body = f"{bank}{account}NL00"
    check = 98 - int("".join(str(int(c, 36)) for c in body)) % 97
    return f"NL{check:02d}{bank}{account}"


@st.composite
def ibans(draw: st.DrawFn) -> str:
    bank = draw(st.sampled_from(["ABNA", "INGB", "RABO", "SNSB", "TRIO", "BUNQ"]))
    iban = _iban(bank, draw(st.text("0123456789", min_size=10, max_size=10)))
    if draw(st.booleans()):
        iban = " ".join(iban[i : i + 4] for i in range(0, len(iban), 4))
    return iban


@st.composite
def bsns(draw: st.DrawFn) -> str:
    head = draw(st.text("0123456789", min_size=8, max_size=8).filter(lambda t: t != "00000000"))
    partial = sum(w * int(d) for w, d in zip((9, 8, 7, 6, 5, 4, 3, 2), head, strict=True))
    last = partial % 11
    if last == 10:
        head = "1" + head[1:]
        partial = sum(w * int(d) for w, d in zip((9, 8, 7, 6, 5, 4, 3, 2), head, strict=True))
        last = partial % 11
    if last == 10:
        last, head = 0, "11122233"  # 111222330 fails; fall back to a known BSN below
        return "111222333"
    bsn = head + str(last)
    sep = draw(st.sampled_from(["", ".", " "]))
    return f"{bsn[:3]}{sep}{bsn[3:5]}{sep}{bsn[5:]}" if sep else bsn


personal = st.one_of(emails, phones(), ibans(), bsns())

# -- ordinary ticket text that must stay as it is ---------------------------------------------

versions = st.builds(
    lambda a, b, c, d: f"versie {a}.{b}.{c}.{d}",
    *(st.integers(0, 99999) for _ in range(4)),
)
tickets = st.one_of(
    st.from_regex(r"(INC|CHG|RITM|PRB)[0-9]{7}", fullmatch=True),
    st.from_regex(r"I-[0-9]{6}-[0-9]{3}", fullmatch=True),
    st.from_regex(r"[A-Z]{2,5}-[0-9]{1,6}", fullmatch=True),
)
dates = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2039, 12, 31)).flatmap(
    lambda d: st.sampled_from(
        [d.strftime("%Y-%m-%d"), d.strftime("%d-%m-%Y %H:%M"), d.isoformat(timespec="seconds")]
    )
)
amounts = st.integers(0, 99_999_999).map(
    lambda cents: "€ " + f"{cents // 100:,}".replace(",", ".") + f",{cents % 100:02d}"
)
ordinary = st.one_of(versions, tickets, dates, amounts, st.sampled_from(["Printer 3 kapot"]))
words = st.sampled_from(["Beller", "meldt", "dat", "graag", "terugbellen:", "(zie", "ook)", "en"])


def _incident(texts: list[str]) -> Incident:
    """An incident with ``texts`` spread over every free-text and contact field."""
    t = [*texts, *[""] * 9]
    when = datetime(2026, 2, 16, 9, 30, tzinfo=UTC)
    return Incident(
        hub_id="h-1",
        supplier_ref=SupplierRef(supplier="s", system=SupplierSystem.TOPDESK, record_id="r-1"),
        title=t[0][:400] or "titel",
        description=t[1],
        status=IncidentStatus.RESOLVED,
        priority=Priority.P3,
        category=t[2] or None,
        ci=CiRef(name=t[3] or None),
        assignee=t[4] or None,
        assignment_group=t[5] or None,
        resolution=Resolution(code=ResolutionCode.SOLVED, notes=t[6] or None),
        comments=(
            Comment(comment_id="c1", body=t[7], visibility=Visibility.PUBLIC, author=t[8] or None),
        ),
        updated_at=when,
        version=1,
        origin=Origin(actor=t[8] or None),
    )


@st.composite
def texts_with(draw: st.DrawFn, items: st.SearchStrategy[str]) -> tuple[list[str], list[str]]:
    """Nine field texts mixing ``items`` with words; and the items used."""
    used: list[str] = []
    fields = []
    for _ in range(9):
        parts = draw(st.lists(st.one_of(words, items.map(lambda x: ("item", x))), max_size=6))
        out = []
        for part in parts:
            if isinstance(part, tuple):
                used.append(part[1])
                out.append(part[1])
            else:
                out.append(part)
        fields.append(" ".join(out))
    return fields, used


@settings(max_examples=300, deadline=None)
@given(texts_with(personal))
def test_nothing_of_a_masked_class_survives_anywhere_in_an_entity(
    case: tuple[list[str], list[str]],
) -> None:
    fields, used = case
    entity = _incident(fields)
    out = Minimiser().entity(entity)
    dumped = orjson.dumps(out.model_dump(mode="json")).decode()
    for item in used:
        assert item not in dumped, f"{item!r} survived: {dumped}"


@settings(max_examples=300, deadline=None)
@given(texts_with(ordinary))
def test_ordinary_ticket_text_is_left_intact(case: tuple[list[str], list[str]]) -> None:
    fields, _ = case
    entity = _incident(fields)
    assert Minimiser().entity(entity) == entity


@given(personal, st.sampled_from(["email", "phone", "iban", "bsn"]))
@example(item="+31 172766850", kept="bsn")  # a phone number whose digits pass the 11-proef
def test_a_kept_class_is_kept(item: str, kept: str) -> None:
    policy = PrivacyPolicy(**{kept: "keep"})  # type: ignore[arg-type]
    out = minimise_text(f"Gegevens: {item} graag", policy)
    classes = _classes_of(item)
    assert classes, item  # every generated item is personal data of some class
    # kept only when every class it belongs to is kept ('+31 172766850' is a phone number
    # whose digits also pass the 11-proef: keeping BSNs does not keep it, masking phones wins)
    assert (item in out) == (classes <= {kept})


_CLASSES = ("email", "phone", "iban", "bsn")


def _classes_of(item: str) -> set[str]:
    """The classes whose rule alone (every other class kept) masks ``item``."""
    found = set()
    for wanted in _CLASSES:
        only = PrivacyPolicy(**{c: "keep" for c in _CLASSES if c != wanted})  # type: ignore[arg-type]
        if minimise_text(item, only) != item:
            found.add(wanted)
    return found


def test_examples_of_each_class() -> None:
    text = (
        "Bel 06-12345678, 010 123 45 67, +31 (0)20 1234567 of 0031 6 1234 5678; mail "
        "<j.jansen@dordrecht.nl>; IBAN NL91 ABNA 0417 1643 00; BSN 111.22.2333. "
        "Afspraak 06-02-2026 10:00, versie 10.0.19045.3803, INC0010023, € 1.234.567,89."
    )
    out = minimise_text(text)
    assert out.count(PHONE_PLACEHOLDER) == 4
    assert EMAIL_PLACEHOLDER in out and IBAN_PLACEHOLDER in out and "[BSN verwijderd]" in out
    assert "06-02-2026 10:00" in out and "10.0.19045.3803" in out and "€ 1.234.567,89" in out
    assert "NL92ABNA0417164300" in minimise_text("NL92ABNA0417164300")  # fails mod-97


def test_log_lines_are_minimised(capsys: pytest.CaptureFixture[str]) -> None:
    saved = structlog.get_config()
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    try:
        configure_logging("json", "INFO")
        log = get_logger("t")
        log.warning("bel 06-12345678", caller="j.jansen@dordrecht.nl", ids=["111222333"])
        err = capsys.readouterr().err
    finally:
        structlog.configure(**saved)
        root.handlers[:] = handlers
        root.setLevel(level)
    assert "06-12345678" not in err and "j.jansen@dordrecht.nl" not in err
    assert "111222333" not in err and PHONE_PLACEHOLDER in err
