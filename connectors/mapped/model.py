"""The mapping document: a pydantic model of what a mapping file may say.

This model checks the *shape* (keys, types, which keys go together); what needs the common
model or the rest of the document (target fields, value maps, formats, paths) is checked when
the mapping is compiled (:mod:`connectors.mapped._compile`). Both report file, line, reason.

Example (one field of each kind)::

    mapping_version: 1
    timezone: Europe/Amsterdam            # for datetimes without an offset
    value_maps:
      statussen: {Nieuw: new, In behandeling: in_progress, Opgelost: resolved}
    incident:
      when: {path: type, equals: [storing, melding]}
      record_id: id
      number: [meldingnummer, nummer]     # alternatives, tried in order
      updated_at: {path: gewijzigd_op, format: "%d-%m-%Y %H:%M"}
      version: versie
      event_key: [versie, gewijzigd_op]
      created_when: {path: versie, equals: 1}
      fields:
        title: {path: onderwerp, required: true}
        status: {path: status, value_map: statussen}
        ci.name: applicatie.naam
        category: {constant: GIS}
      comments:
        path: notities
        body: tekst
        visibility: {path: intern, value_map: zichtbaarheid, default: internal}
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

__all__ = [
    "CommentsSpec",
    "Condition",
    "EntitySpec",
    "FieldSpec",
    "MappingDocument",
]


def _as_text(value: Any) -> Any:
    """Numbers and booleans written in YAML stand for their text here (codes, labels)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return value


def _scalar(value: Any) -> Any:
    if value is None or isinstance(value, str | bool):
        return value
    if isinstance(value, int | float):
        return str(value)
    raise ValueError("expected a single value (a text, a number, or true/false)")


def _paths(value: Any) -> Any:
    return [value] if isinstance(value, str) else value


Text = Annotated[str, BeforeValidator(_as_text)]
Scalar = Annotated[str | bool | None, BeforeValidator(_scalar)]
Paths = Annotated[list[str] | None, BeforeValidator(_paths)]


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FieldSpec(_Spec):
    """Where one value comes from and how it is read.

    Short forms: ``title: onderwerp`` (a path) and ``number: [meldingnummer, nummer]``
    (alternative paths, the first with a value wins).
    """

    path: Paths = None
    constant: Scalar = None
    value_map: str | None = None
    unmapped: Literal["error", "keep", "default"] = "error"
    format: str | None = None
    timezone: str | None = None
    default: Scalar = None
    required: bool = False
    join: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _short_forms(cls, value: Any) -> Any:
        if isinstance(value, str | list):
            return {"path": value}
        return value

    @model_validator(mode="after")
    def _consistent(self) -> FieldSpec:
        if self.path is None and self.constant is None and self.default is None:
            raise ValueError("give a path, a constant or a default")
        if self.path is not None and not self.path:
            raise ValueError("path: give at least one path")
        if self.constant is not None:
            extra = [
                k
                for k in ("path", "value_map", "default", "required", "join")
                if k in self.model_fields_set
            ]
            if extra:
                raise ValueError(f"a constant stands alone; drop {', '.join(extra)}")
        if self.unmapped != "error" and self.value_map is None:
            raise ValueError("unmapped only applies with a value_map")
        if self.unmapped == "default" and self.default is None:
            raise ValueError("unmapped: default needs a default")
        if self.timezone is not None and self.format in ("epoch_ms", "epoch_s"):
            raise ValueError("epoch values carry no zone; drop timezone")
        if self.join is not None and self.value_map is not None:
            raise ValueError("join and value_map do not go together")
        return self


class Condition(_Spec):
    """True when the value at ``path`` is one of ``equals`` (case and spaces ignored)."""

    path: str
    equals: Annotated[list[Text], Field(min_length=1)]

    @model_validator(mode="before")
    @classmethod
    def _single(cls, value: Any) -> Any:
        if isinstance(value, dict) and "equals" in value and not isinstance(value["equals"], list):
            return {**value, "equals": [value["equals"]]}
        return value


class CommentsSpec(_Spec):
    """A list of journal entries: ``path`` to the list; the other paths are per item."""

    path: str
    id: FieldSpec | None = None
    body: FieldSpec
    author: FieldSpec | None = None
    created_at: FieldSpec | None = None
    visibility: FieldSpec | None = None


class EntitySpec(_Spec):
    """How to recognise and read one entity kind (incident, change or ci)."""

    when: Condition
    record_id: FieldSpec
    number: FieldSpec | None = None
    updated_at: FieldSpec
    version: FieldSpec | None = None
    event_key: Annotated[list[str], Field(min_length=1)]
    created_when: Condition | None = None
    deleted_when: Condition | None = None
    fields: dict[str, FieldSpec] = Field(default_factory=dict)
    comments: CommentsSpec | None = None

    @model_validator(mode="before")
    @classmethod
    def _single_key(cls, value: Any) -> Any:
        if isinstance(value, dict) and isinstance(value.get("event_key"), str):
            return {**value, "event_key": [value["event_key"]]}
        return value


class MappingDocument(_Spec):
    """A whole mapping file: the supplier's entity kinds and the value maps they share."""

    mapping_version: Literal["1"]
    description: str | None = None
    timezone: str | None = None
    value_maps: dict[str, dict[str, Text]] = Field(default_factory=dict)
    incident: EntitySpec | None = None
    change: EntitySpec | None = None
    ci: EntitySpec | None = None

    @model_validator(mode="before")
    @classmethod
    def _version_text(cls, value: Any) -> Any:
        if isinstance(value, dict) and isinstance(value.get("mapping_version"), int | float):
            return {**value, "mapping_version": str(value["mapping_version"])}
        return value

    @model_validator(mode="after")
    def _some_entity(self) -> MappingDocument:
        if self.incident is None and self.change is None and self.ci is None:
            raise ValueError("map at least one entity: incident, change or ci")
        return self
