"""Personal-data minimisation (AVG): e-mail addresses, Dutch phone numbers, IBANs and BSNs.

A leaf module (it imports only :mod:`schemas`): the normaliser applies :meth:`Minimiser.entity`
to every normalised entity, so the unified feed, every gemeente topic, every delivery and every
e-mail carry the result; :func:`log_processor` applies the same masking to every log line.

Classes, each masked or kept per :class:`PrivacyPolicy` (default: all masked):

- ``email``: ``local@domain.tld`` (also inside ``mailto:`` and angle brackets);
- ``phone``: Dutch numbers: ``06-12345678``, ``010 123 45 67``, ``0181-123456``,
  ``+31 6 12345678``, ``+31 (0)20 1234567``, ``0031 6 1234 5678``: ten digits from the ``0``
  (nine after ``31``), separated by single spaces, dashes or dots; a date (``06-02-2026``)
  or a time after it (``... 10:00``) is not a phone number;
- ``iban``: two letters, two check digits and 11-30 letters or digits (optionally in groups of
  four), masked only when the ISO 13616 mod-97 check holds;
- ``bsn``: nine digits (also ``123.45.6789`` / ``123 45 6789``) passing the 11-proef, not
  part of a longer dotted number (a version such as ``0.0.36775.1264``).

Where it applies: every text of an entity, including nested ones (comments and their authors,
the resolution, the CI reference, the actor), except identities (``hub_id``, ``supplier_ref``,
``comment_id``, CI relation targets) and codes (enums, dates, numbers). Ordinary ticket text
(version numbers, ticket numbers, dates, amounts) is left as it is.

Hot path: one pass collects an entity's texts; when they hold no ``@`` and no chain of nine
digits (most tickets: dates and hex ids do not form one), the entity is returned as it is.
An IBAN is looked for only where such a chain is (every Dutch IBAN has ten digits in a row).
"""

from __future__ import annotations

import re
from collections.abc import Callable, MutableMapping
from dataclasses import dataclass
from types import UnionType
from typing import Annotated, Any, Literal, TypeVar, Union, get_args, get_origin

from pydantic import BaseModel

__all__ = [
    "BSN_PLACEHOLDER",
    "EMAIL_PLACEHOLDER",
    "IBAN_PLACEHOLDER",
    "PHONE_PLACEHOLDER",
    "Minimiser",
    "PrivacyPolicy",
    "is_bsn",
    "is_iban",
    "log_processor",
    "minimise_text",
]

Treatment = Literal["mask", "keep"]

BSN_PLACEHOLDER = "[BSN verwijderd]"
EMAIL_PLACEHOLDER = "[e-mailadres verwijderd]"
PHONE_PLACEHOLDER = "[telefoonnummer verwijderd]"
IBAN_PLACEHOLDER = "[IBAN verwijderd]"

#: fields that identify (never personal data, and never rewritten)
_IDENTITY_FIELDS = frozenset(
    {"hub_id", "supplier_ref", "comment_id", "record_id", "target_record_id"}
)
#: nine digits in a row, single spaces, dots or dashes allowed between them: every phone
#: number, BSN and Dutch IBAN has such a chain (the cheap test before the real patterns)
_CHAIN = re.compile(r"[0-9](?:[ .\-]?[0-9]){8}")
#: a record id of 32 hex digits (ServiceNow sys_id): holds digit chains, never personal data
_HEX_ID = re.compile(r"(?<![0-9A-Za-z])[0-9a-f]{32}(?![0-9A-Za-z])")

_NOT_DIGITS = bytes(b for b in range(256) if not 0x30 <= b <= 0x39)
_WEIGHTS = (9, 8, 7, 6, 5, 4, 3, 2, -1)

_EMAIL = re.compile(
    r"(?<![\w.%+-])[\w.%+-]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?)*\.[A-Za-z]{2,24}(?![\w-])"
)
_SEP = r"[ .\-]?"
_PHONE = re.compile(
    r"(?<![\w+.,:/\-])"
    r"(?:(?:\+|00)31[ .\-]?(?:\(0\)[ .\-]?)?|0)"
    # nine digits after the 0: mobile 6 + 8, or an area code of two or three digits (contiguous)
    rf"(?:6(?:{_SEP}[0-9]){{8}}|[1-9][0-9](?:{_SEP}[0-9]){{7}}|[1-9][0-9]{{2}}(?:{_SEP}[0-9]){{6}})"
    r"(?![0-9]|[.,:\-/][0-9])"
)
_DATE = re.compile(
    r"(?:[0-3][0-9][-./][01][0-9][-./](?:19|20)[0-9]{2}|(?:19|20)[0-9]{2}-[01][0-9]-[0-3][0-9])"
    r"(?![0-9])"
)
_IBAN = re.compile(
    r"(?<![A-Za-z0-9])[A-Za-z]{2}[0-9]{2}(?: ?[A-Za-z0-9]{4}){2,7}(?: ?[A-Za-z0-9]{1,3})?"
    r"(?![A-Za-z0-9])"
)
#: nine digits, as one run or grouped 3-2-4 with the same separator twice, not inside a longer
#: (dotted or comma) number such as a version or an amount
_NINE_DIGITS = re.compile(
    r"(?<![0-9])(?<![0-9][.,])([0-9]{3})([ .-]?)([0-9]{2})\2([0-9]{4})(?![0-9]|[.,][0-9])"
)


@dataclass(frozen=True, slots=True)
class PrivacyPolicy:
    """Per class of personal data: ``mask`` (the default, privacy-friendly) or ``keep``."""

    email: Treatment = "mask"
    phone: Treatment = "mask"
    iban: Treatment = "mask"
    bsn: Treatment = "mask"

    @property
    def masks_anything(self) -> bool:
        return "mask" in (self.email, self.phone, self.iban, self.bsn)


_MASK_ALL = PrivacyPolicy()


def is_bsn(digits: str) -> bool:
    """True for nine digits that pass the 11-proef (and are not all zeros)."""
    if len(digits) != 9 or not digits.isdigit() or digits == "000000000":
        return False
    return sum(w * int(d) for w, d in zip(_WEIGHTS, digits, strict=True)) % 11 == 0


def is_iban(text: str) -> bool:
    """True when ``text`` (spaces allowed) passes the IBAN mod-97 check (ISO 13616)."""
    compact = text.replace(" ", "").upper()
    if not 15 <= len(compact) <= 34 or not compact.isalnum() or not compact.isascii():
        return False
    rearranged = compact[4:] + compact[:4]
    number = "".join(str(int(ch, 36)) for ch in rearranged)
    return int(number) % 97 == 1


def _digit_count(text: str) -> int:
    return len(text.encode("utf-8", "surrogatepass").translate(None, _NOT_DIGITS))


def _phone(match: re.Match[str]) -> str:
    found = match.group(0)
    if _DATE.search(found):  # a date, maybe after a time (00:06 2000-01-01), is no number
        return found
    if found.startswith("0") and not found.startswith("00"):
        national = found  # 0 + nine digits
    else:  # +31 / 0031, an optional (0), then nine digits
        national = "0" + found.removeprefix("+").removeprefix("00")[2:].replace("(0)", "", 1)
    digits = national.encode().translate(None, _NOT_DIGITS)
    return PHONE_PLACEHOLDER if len(digits) == 10 else found


def _iban(match: re.Match[str]) -> str:
    return IBAN_PLACEHOLDER if is_iban(match.group(0)) else match.group(0)


def _bsn(match: re.Match[str]) -> str:
    return BSN_PLACEHOLDER if is_bsn(match[1] + match[3] + match[4]) else match.group(0)


def _may_hold(text: str) -> tuple[bool, bool]:
    """(may hold an e-mail address, may hold a chain of nine digits outside record ids)."""
    return "@" in text, _has_chain(text)


def _has_chain(text: str) -> bool:
    if len(text) < 9 or _digit_count(text) < 9 or _CHAIN.search(text) is None:
        return False
    return _CHAIN.search(_HEX_ID.sub("", text)) is not None if len(text) >= 32 else True


def minimise_text(text: str, policy: PrivacyPolicy | None = None) -> str:
    """``text`` with every masked class of personal data replaced by its placeholder."""
    at, digits = _may_hold(text)
    if not at and not digits:
        return text
    return _mask(text, policy or _MASK_ALL, at, digits)


def _mask(text: str, policy: PrivacyPolicy, at: bool, digits: bool) -> str:
    if at and policy.email == "mask":
        text = _EMAIL.sub(EMAIL_PLACEHOLDER, text)
    if digits:
        kept: list[str] = []
        if policy.iban == "mask":
            text = _IBAN.sub(_iban, text)
        else:  # a kept IBAN is set aside, so its digits are not taken for a phone number
            text = _IBAN.sub(lambda m: _set_aside(m, kept), text)
        if policy.phone == "mask":
            text = _PHONE.sub(_phone, text)
        if policy.bsn == "mask":
            text = _NINE_DIGITS.sub(_bsn, text)
        if kept:
            text = _ASIDE.sub(lambda m: _restore(m, kept), text)
    return text


_ASIDE = re.compile("\x00([0-9]+)\x00")


def _set_aside(match: re.Match[str], kept: list[str]) -> str:
    if not is_iban(match.group(0)):
        return match.group(0)
    kept.append(match.group(0))
    return f"\x00{len(kept) - 1}\x00"


M = TypeVar("M", bound=BaseModel)


#: per model class: its text fields, nested model fields and tuples of models (no identities)
_Plan = tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...], tuple[str, ...]]
_PLANS: dict[type[BaseModel], _Plan] = {}


def _leaves(annotation: Any) -> list[Any]:
    origin = get_origin(annotation)
    if origin is Annotated:
        return _leaves(get_args(annotation)[0])
    if origin in (Union, UnionType):
        return [leaf for arg in get_args(annotation) for leaf in _leaves(arg)]
    return [annotation]


def _plan(cls: type[BaseModel]) -> _Plan:
    """Which fields of ``cls`` hold text, a model, models or texts (computed once)."""
    plan = _PLANS.get(cls)
    if plan is not None:
        return plan
    texts: list[str] = []
    models: list[str] = []
    model_tuples: list[str] = []
    text_tuples: list[str] = []
    for name, info in cls.model_fields.items():
        if name in _IDENTITY_FIELDS:
            continue
        for leaf in _leaves(info.annotation):
            if leaf is str:
                texts.append(name)
            elif isinstance(leaf, type) and issubclass(leaf, BaseModel):
                models.append(name)
            elif get_origin(leaf) is tuple:
                inner = [x for arg in get_args(leaf) if arg is not ... for x in _leaves(arg)]
                if any(isinstance(x, type) and issubclass(x, BaseModel) for x in inner):
                    model_tuples.append(name)
                elif str in inner:
                    text_tuples.append(name)
    plan = _PLANS[cls] = (tuple(texts), tuple(models), tuple(model_tuples), tuple(text_tuples))
    return plan


def _texts(model: BaseModel, out: list[str]) -> None:
    texts, models, model_tuples, text_tuples = _plan(type(model))
    values = model.__dict__
    for name in texts:
        value = values[name]
        if value and not (len(value) == 32 and _HEX_ID.fullmatch(value)):
            out.append(value)
    for name in models:
        value = values[name]
        if value is not None:
            _texts(value, out)
    for name in model_tuples:
        for item in values[name]:
            _texts(item, out)
    for name in text_tuples:
        out.extend(values[name])


def _rewrite(model: M, fix: Callable[[str], str]) -> M:
    texts, models, model_tuples, text_tuples = _plan(type(model))
    values = model.__dict__
    update: dict[str, Any] = {}
    for name in texts:
        value = values[name]
        if value:
            fixed = fix(value)
            if fixed != value:
                update[name] = fixed
    for name in models:
        value = values[name]
        if value is not None:
            fixed_model = _rewrite(value, fix)
            if fixed_model is not value:
                update[name] = fixed_model
    for name in model_tuples:
        items = values[name]
        fixed_items = tuple(_rewrite(item, fix) for item in items)
        if any(a is not b for a, b in zip(fixed_items, items, strict=True)):
            update[name] = fixed_items
    for name in text_tuples:
        items = values[name]
        fixed_texts = tuple(fix(item) for item in items)
        if fixed_texts != items:
            update[name] = fixed_texts
    return model.model_copy(update=update) if update else model


class Minimiser:
    """Applies one :class:`PrivacyPolicy` to entities (a transform: ``apply(x) -> x``)."""

    __slots__ = ("policy",)

    def __init__(self, policy: PrivacyPolicy | None = None) -> None:
        self.policy = policy or _MASK_ALL

    def text(self, text: str) -> str:
        return minimise_text(text, self.policy)

    def entity(self, entity: M) -> M:
        """The entity with every masked class removed from all of its texts; the same object
        when there was nothing to remove."""
        if not self.policy.masks_anything:
            return entity
        texts: list[str] = []
        _texts(entity, texts)
        joined = "\x00".join(texts)
        if "@" not in joined and not _has_chain(joined):
            return entity
        policy = self.policy
        return _rewrite(entity, lambda text: _mask(text, policy, *_may_hold(text)))


def _scrub(value: object, policy: PrivacyPolicy) -> object:
    if type(value) is str:
        return minimise_text(value, policy)
    if isinstance(value, dict):
        return {k: _scrub(v, policy) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_scrub(v, policy) for v in value]
    if isinstance(value, BaseException):
        return minimise_text(str(value), policy)
    return value


def log_processor(
    policy: PrivacyPolicy | None = None,
) -> Callable[[Any, str, MutableMapping[str, Any]], MutableMapping[str, Any]]:
    """A structlog processor masking personal data in every value of a log line (the event
    text, bound values, exception text)."""
    chosen = policy or _MASK_ALL

    def process(_logger: Any, _method: str, event: MutableMapping[str, Any]) -> Any:
        for key, value in list(event.items()):
            if key == "exc_info":
                continue
            scrubbed = _scrub(value, chosen)
            if scrubbed is not value and scrubbed != value:
                event[key] = scrubbed
        return event

    return process


def _restore(match: re.Match[str], kept: list[str]) -> str:
    index = int(match[1])
    return kept[index] if index < len(kept) else match.group(0)
