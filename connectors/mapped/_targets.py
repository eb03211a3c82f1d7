"""What a mapping may write: the fields of the common model, read off the pydantic models.

Each entity's mappable fields are its own fields and those of the nested objects
(``ci.name``, ``resolution.code``, ``supplier_ref.correlation_id``, ``origin.actor``), minus
what the translator itself sets (hub id, supplier, system, record id, number, updated_at,
version, comments, the echo flag, CI relations and deletion). Reading them off the models
means a field added to the common model can be mapped without touching this connector.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Any, Literal

from pydantic import BaseModel
from pydantic.fields import FieldInfo

from schemas import Change, ConfigurationItem, EntityKind, Incident, Priority

__all__ = ["COMPUTED", "TARGETS", "Kind", "Target", "parse_bool"]

Kind = Literal["text", "code", "datetime", "bool", "int", "texts"]

#: Set by the translator, never by a field mapping (entity-level keys say where instead).
COMPUTED: dict[str, str] = {
    "hub_id": "derived from the supplier and record_id",
    "supplier_ref.supplier": "the supplier's id from the hub configuration",
    "supplier_ref.system": "always 'mapped'",
    "supplier_ref.record_id": "set by the entity's record_id key",
    "supplier_ref.number": "set by the entity's number key",
    "updated_at": "set by the entity's updated_at key",
    "version": "set by the entity's version key",
    "comments": "set by the entity's comments block",
    "origin.by_schakel": "derived from origin.actor and the comments (echo detection)",
    "relations": "CI relations are not mapped declaratively",
    "deleted": "set by the entity's deleted_when condition",
}

_TRUE = frozenset({"true", "1", "yes", "ja", "j", "y", "waar", "on"})
_FALSE = frozenset({"false", "0", "no", "nee", "n", "onwaar", "off"})


def parse_bool(text: str) -> bool:
    folded = text.strip().casefold()
    if folded in _TRUE:
        return True
    if folded in _FALSE:
        return False
    raise ValueError(f"{text!r} is not true or false (true/false, ja/nee, yes/no, 1/0)")


@dataclass(frozen=True, slots=True)
class Target:
    """One mappable common-model field."""

    name: str
    kind: Kind
    convert: Callable[[str], Any]
    """Text (a value map's target, a default, a payload code) -> the field's value."""
    max_length: int | None
    required: bool
    """The model has no default for it (within its nested object, for ``a.b`` names)."""
    vocabulary: tuple[str, ...] = ()

    @property
    def group(self) -> str | None:
        head, dot, _ = self.name.partition(".")
        return head if dot else None

    @property
    def leaf(self) -> str:
        return self.name.rpartition(".")[2]


def _text(value: str) -> str:
    return value


def _enum_converter(enum: type[Enum]) -> Callable[[str], Any]:
    if enum is Priority:
        return Priority.parse

    def convert(value: str) -> Any:
        return enum(value.strip().lower())

    return convert


def _integer(value: str) -> int:
    return int(value.strip())


def _describe(name: str, info: FieldInfo) -> list[Target]:
    annotation: Any = info.annotation
    metadata = list(info.metadata)
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        members = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(members) != 1:
            return []
        annotation = members[0]
    if typing.get_origin(annotation) is typing.Annotated:
        annotation, *extra = typing.get_args(annotation)
        metadata.extend(extra)
    required = info.is_required()
    max_length = next(
        (m.max_length for m in metadata if getattr(m, "max_length", None) is not None), None
    )
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        nested: list[Target] = []
        for sub_name, sub_info in annotation.model_fields.items():
            nested.extend(_describe(f"{name}.{sub_name}", sub_info))
        return nested
    if annotation is str:
        return [Target(name, "text", _text, max_length, required)]
    if annotation is bool:
        return [Target(name, "bool", parse_bool, None, required)]
    if annotation is int:
        return [Target(name, "int", _integer, None, required)]
    if annotation is datetime:
        return [Target(name, "datetime", _text, None, required)]
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        vocabulary = tuple(str(m.value) for m in annotation)
        return [Target(name, "code", _enum_converter(annotation), None, required, vocabulary)]
    if typing.get_origin(annotation) is tuple:
        args = typing.get_args(annotation)
        item = args[0] if args else None
        if typing.get_origin(item) is typing.Annotated:
            item = typing.get_args(item)[0]
        if item is str:
            return [Target(name, "texts", _text, None, required)]
    return []


def _catalogue(model: type[BaseModel]) -> dict[str, Target]:
    out: dict[str, Target] = {}
    for name, info in model.model_fields.items():
        for target in _describe(name, info):
            if target.name not in COMPUTED and target.name.partition(".")[0] not in COMPUTED:
                out[target.name] = target
    return out


#: entity -> field name -> target; the only fields a mapping's ``fields`` may name.
TARGETS: dict[EntityKind, dict[str, Target]] = {
    EntityKind.INCIDENT: _catalogue(Incident),
    EntityKind.CHANGE: _catalogue(Change),
    EntityKind.CI: _catalogue(ConfigurationItem),
}
