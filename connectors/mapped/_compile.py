"""Compiling a loaded mapping into readers, checking everything that needs the common model.

Checked here (each problem with file, line and reason, all reported at once):

- every target under ``fields`` is a mappable field of the entity's common-model class;
- every required field (title, status, priority or impact+urgency, change_type, name,
  ci_class, and ``resolution.code`` when a resolution is mapped) has a path, constant or
  default;
- every value map referenced exists, and every value in it is valid for each target field
  that uses it (``resolved`` for an incident status, ``P2`` for a priority, ...); the
  supplier's ``value_maps`` overrides (hub configuration) are checked the same way;
- paths, datetime formats, time zones, defaults and constants can be read;
- ``format``/``timezone`` only on datetimes, ``join`` only on texts, value maps not on
  datetimes or lists;
- no two entities claim the same ``when`` value.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from connectors._base import SupplierContext
from connectors._model import default_priority
from connectors._valuemap import ValueMap
from connectors.mapped._dates import check_format, date_reader
from connectors.mapped._entity import EntityReader, Group, Matcher
from connectors.mapped._paths import Getter, PathSyntaxError, getter, is_single_key
from connectors.mapped._readers import (
    CommentsReader,
    Convert,
    FieldReader,
    code_text,
    direct_code,
    epoch_ms,
    integer,
    mapped_code,
    texts,
    to_bool,
    to_text,
)
from connectors.mapped._targets import COMPUTED, TARGETS, Target, parse_bool
from connectors.mapped._yaml import Loc
from connectors.mapped.errors import MappingError, Problem
from connectors.mapped.loader import LoadedMapping, problem_at, sorted_problems
from connectors.mapped.model import CommentsSpec, Condition, EntitySpec, FieldSpec
from schemas import EntityKind, Visibility

__all__ = ["CompiledMapping", "Dispatch", "compile_mapping", "fold"]

#: One ``when`` path: its getter, its text, and the entity each (folded) value selects.
Dispatch = tuple[Getter, str, dict[str, EntityReader]]


def fold(text: str) -> str:
    """Case- and space-insensitive form of a code (as :class:`ValueMap` compares them)."""
    return " ".join(text.split()).casefold()


def _text(value: str) -> str:
    return value


def _visibility(value: str) -> Visibility:
    return Visibility(value.strip().lower())


# Targets of the entity-level keys and of comment items (not common-model fields as such).
_RECORD_ID = Target("record_id", "text", _text, 400, True)
_NUMBER = Target("number", "text", _text, 400, False)
_UPDATED_AT = Target("updated_at", "datetime", _text, None, True)
_VERSION = Target("version", "int", int, None, True)
_COMMENT: dict[str, Target] = {
    "id": Target("comments.id", "text", _text, 400, False),
    "body": Target("comments.body", "text", _text, 200_000, True),
    "author": Target("comments.author", "text", _text, 400, False),
    "created_at": Target("comments.created_at", "datetime", _text, None, False),
    "visibility": Target(
        "comments.visibility",
        "code",
        _visibility,
        None,
        False,
        tuple(v.value for v in Visibility),
    ),
}
#: Read by the entity's own rules, not copied field by field.
_SPECIAL = {
    EntityKind.INCIDENT: frozenset({"priority", "hold_reason", "reopened", "origin.actor"}),
    EntityKind.CHANGE: frozenset({"origin.actor"}),
    EntityKind.CI: frozenset({"origin.actor"}),
}


@dataclass(frozen=True, slots=True)
class CompiledMapping:
    dispatch: tuple[Dispatch, ...]
    described: str
    """What the mapping recognises, for messages: ``incident: type storing, melding; ...``."""


def compile_mapping(loaded: LoadedMapping, ctx: SupplierContext) -> CompiledMapping:
    """Readers for every entity of ``loaded``; MappingError listing every problem found."""
    return _Compiler(loaded, ctx).run()


class _Compiler:
    def __init__(self, loaded: LoadedMapping, ctx: SupplierContext) -> None:
        self.loaded = loaded
        self.doc = loaded.document
        self.ctx = ctx
        self.problems: list[Problem] = []
        self.accounts = frozenset(a.casefold() for a in ctx.schakel_accounts)
        self._maps: dict[tuple[str, str], ValueMap[Any] | None] = {}
        zone: tzinfo = ctx.timezone
        if self.doc.timezone is not None:
            zone = self._zone(self.doc.timezone, ("timezone",)) or zone
        self.zone = zone

    def run(self) -> CompiledMapping:
        self._check_overrides()
        readers: list[tuple[EntityKind, EntitySpec, EntityReader | None]] = []
        for kind in EntityKind:
            spec: EntitySpec | None = getattr(self.doc, kind.value)
            if spec is not None:
                readers.append((kind, spec, self._entity(kind, spec)))
        dispatch = self._dispatch(readers)
        if self.problems:
            raise MappingError(self.loaded.file, sorted_problems(self.problems))
        described = "; ".join(
            f"{kind.value}: {spec.when.path} {', '.join(spec.when.equals)}"
            for kind, spec, _ in readers
        )
        return CompiledMapping(dispatch, described)

    # -- problems ---------------------------------------------------------------------------

    def problem(self, loc: Loc, reason: str) -> None:
        self.problems.append(problem_at(self.loaded.yaml, loc, reason))

    def _zone(self, name: str, loc: Loc) -> ZoneInfo | None:
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            self.problem(loc, f"unknown time zone '{name}' (use an IANA name: Europe/Amsterdam)")
            return None

    def _getter(self, path: str, loc: Loc) -> Getter | None:
        try:
            return getter(path)
        except PathSyntaxError as exc:
            self.problem(loc, str(exc))
            return None

    # -- value maps -------------------------------------------------------------------------

    def _check_overrides(self) -> None:
        defined = self.doc.value_maps
        for name in self.ctx.value_maps:
            if name not in defined:
                self.problem(
                    ("value_maps",),
                    f"the hub configuration gives supplier '{self.ctx.supplier}' value_maps "
                    f"'{name}', which this mapping does not define "
                    f"(it defines: {', '.join(defined) or 'none'})",
                )
        for name, entries in defined.items():
            seen: dict[str, str] = {}
            for code in entries:
                folded = fold(code)
                if folded in seen:
                    self.problem(
                        ("value_maps", name, code),
                        f"'{code}' is the same code as '{seen[folded]}' "
                        "(codes ignore case and spaces)",
                    )
                seen[folded] = code

    def _value_map(self, name: str, target: Target, owner: str, loc: Loc) -> ValueMap[Any] | None:
        key = (name, f"{owner}.{target.name}")
        if key in self._maps:
            return self._maps[key]
        entries = self.doc.value_maps.get(name)
        if entries is None:
            known = ", ".join(self.doc.value_maps) or "none"
            self.problem(loc, f"unknown value map '{name}' (defined: {known})")
            self._maps[key] = None
            return None
        defaults: dict[str, Any] = {}
        ok = True
        for code, text in entries.items():
            try:
                defaults[code] = target.convert(text)
            except ValueError:
                ok = False
                self.problem(
                    ("value_maps", name, code),
                    f"'{text}' is not a valid {owner}.{target.name} "
                    f"({_expected(target)}); value map '{name}' is used by {owner}.{target.name}",
                )
        table: ValueMap[Any] | None = None
        try:
            table = ValueMap(name, defaults, target.convert, self.ctx.value_maps.get(name))
        except ValueError as exc:
            ok = False
            self.problem(
                ("value_maps", name),
                f"the hub configuration's value_maps for supplier '{self.ctx.supplier}' "
                f"override it wrongly for {owner}.{target.name}: {exc}",
            )
        self._maps[key] = table if ok else None
        return self._maps[key]

    # -- fields -----------------------------------------------------------------------------

    def _field(
        self,
        spec: FieldSpec,
        target: Target,
        owner: str,
        loc: Loc,
        *,
        required: bool = False,
    ) -> FieldReader | None:
        """The reader of one value; None (with problems recorded) when it cannot be built."""
        before = len(self.problems)
        kind = target.kind
        version_date = target is _VERSION and spec.format is not None
        if spec.format is not None and kind != "datetime" and not version_date:
            self.problem((*loc, "format"), f"format applies to datetimes; {target.name} is {kind}")
        if spec.timezone is not None and kind != "datetime" and not version_date:
            self.problem((*loc, "timezone"), f"timezone applies to datetimes; not {target.name}")
        if spec.join is not None and kind != "text":
            self.problem((*loc, "join"), f"join applies to text fields; {target.name} is {kind}")
        if spec.value_map is not None and kind in ("datetime", "int", "texts"):
            self.problem((*loc, "value_map"), f"a value map cannot produce {kind} values")
        convert = self._converter(spec, target, kind, version_date, loc)
        table = None
        if spec.value_map is not None and kind in ("text", "code", "bool"):
            table = self._value_map(spec.value_map, target, owner, (*loc, "value_map"))
        constant = self._fixed(spec.constant, target, (*loc, "constant"))
        default = self._fixed(spec.default, target, (*loc, "default"))
        sources: list[tuple[Getter, Convert, str]] = []
        for index, path in enumerate(spec.path or ()):
            get = self._getter(path, (*loc, "path", index))
            if get is None or convert is None:
                continue
            if table is not None:
                keep = convert if spec.unmapped == "keep" else None
                sources.append((get, mapped_code(table, spec.unmapped, default, keep), path))
            else:
                sources.append((get, convert, path))
        if len(self.problems) > before:
            return None
        paths = spec.path or ()
        return FieldReader(
            tuple(sources),
            constant=constant,
            default=default,
            required=required or spec.required,
            entity=owner,
            key=paths[0] if len(paths) == 1 and is_single_key(paths[0]) else None,
        )

    def _converter(
        self, spec: FieldSpec, target: Target, kind: str, version_date: bool, loc: Loc
    ) -> Convert | None:
        if kind == "datetime" or version_date:
            fmt = spec.format or "iso8601"
            why = check_format(fmt)
            if why is not None:
                self.problem((*loc, "format"), why)
                return None
            zone = self.zone
            if spec.timezone is not None:
                zone = self._zone(spec.timezone, (*loc, "timezone")) or zone
            read = date_reader(fmt, zone)
            return epoch_ms(read) if version_date else read
        if kind == "text":
            return to_text(target.max_length, spec.join)
        if kind == "code":
            return direct_code(target.convert, target.vocabulary)
        if kind == "bool":
            return to_bool
        if kind == "int":
            return integer
        return texts

    def _fixed(self, value: str | bool | None, target: Target, loc: Loc) -> Any:
        """A constant or default, converted to the target's type once."""
        if value is None:
            return None
        text = ("true" if value else "false") if isinstance(value, bool) else value
        try:
            if target.kind == "datetime":
                raise ValueError("a datetime field takes no constant or default")
            if target.kind == "bool":
                return value if isinstance(value, bool) else parse_bool(text)
            if target.kind == "texts":
                return texts(text, target.name)
            if target.kind == "text":
                return text
            return target.convert(text)
        except ValueError as exc:
            reason = str(exc) if target.kind in ("datetime", "bool") else None
            shown = f"'{text}' is not a valid {target.name}: {_expected(target)}"
            self.problem(loc, reason or shown)
            return None

    # -- entities ---------------------------------------------------------------------------

    def _entity(self, kind: EntityKind, spec: EntitySpec) -> EntityReader | None:
        before = len(self.problems)
        owner = kind.value
        loc: Loc = (owner,)
        targets = TARGETS[kind]
        record_id = self._field(
            spec.record_id, _RECORD_ID, owner, (*loc, "record_id"), required=True
        )
        number = (
            self._field(spec.number, _NUMBER, owner, (*loc, "number"))
            if spec.number is not None
            else None
        )
        updated_at = self._field(
            spec.updated_at, _UPDATED_AT, owner, (*loc, "updated_at"), required=True
        )
        version = (
            self._field(spec.version, _VERSION, owner, (*loc, "version"), required=True)
            if spec.version is not None
            else None
        )
        event_key: list[tuple[Getter, str]] = []
        for index, path in enumerate(spec.event_key):
            get = self._getter(path, (*loc, "event_key", index))
            if get is not None:
                event_key.append((get, path))
        self._condition(spec.when, (*loc, "when"))
        created_when = (
            self._condition(spec.created_when, (*loc, "created_when"))
            if spec.created_when is not None
            else None
        )
        deleted_when = (
            self._condition(spec.deleted_when, (*loc, "deleted_when"))
            if spec.deleted_when is not None
            else None
        )
        readers: dict[str, FieldReader] = {}
        for name, field_spec in spec.fields.items():
            field_loc = (*loc, "fields", name)
            target = targets.get(name)
            if target is None:
                if name in COMPUTED or name.partition(".")[0] in COMPUTED:
                    why = COMPUTED.get(name) or COMPUTED[name.partition(".")[0]]
                    self.problem(field_loc, f"'{name}' cannot be mapped here: {why}")
                else:
                    known = ", ".join(targets)
                    self.problem(field_loc, f"'{name}' is not a field of {owner} (fields: {known})")
                continue
            required = target.required and target.group is None and name != "priority"
            reader = self._field(field_spec, target, owner, field_loc, required=required)
            if reader is not None:
                readers[name] = reader
        self._check_required(kind, spec, loc)
        comments = None
        if spec.comments is not None:
            if kind is EntityKind.CI:
                self.problem((*loc, "comments"), "a CI has no comments")
            else:
                comments = self._comments(spec.comments, owner, (*loc, "comments"))
        if len(self.problems) > before:
            return None
        assert record_id is not None and updated_at is not None
        special = _SPECIAL[kind]
        groups: dict[str, list[tuple[str, FieldReader]]] = {}
        plain: list[tuple[str, FieldReader]] = []
        extras: list[tuple[str, FieldReader]] = []
        for name, reader in readers.items():
            if name in special:
                continue
            group, _, leaf = name.rpartition(".")
            if group == "supplier_ref":
                extras.append((leaf, reader))
            elif group:
                groups.setdefault(group, []).append((leaf, reader))
            else:
                plain.append((name, reader))
        compiled_groups: list[Group] = [
            (
                group,
                tuple(members),
                tuple(t.leaf for t in targets.values() if t.group == group and t.required),
            )
            for group, members in groups.items()
        ]
        return EntityReader(
            kind,
            supplier=self.ctx.supplier,
            accounts=self.accounts,
            marker=self.ctx.schakel_marker,
            record_id=record_id,
            number=number,
            updated_at=updated_at,
            version=version,
            event_key=tuple(event_key),
            created_when=created_when,
            deleted_when=deleted_when,
            plain=tuple(plain),
            groups=tuple(compiled_groups),
            ref_extras=tuple(extras),
            specials={name: readers[name] for name in special if name in readers},
            comments=comments,
            default_priority=default_priority(self.ctx.options),
        )

    def _check_required(self, kind: EntityKind, spec: EntitySpec, loc: Loc) -> None:
        mapped = spec.fields
        where: Loc = (*loc, "fields") if "fields" in spec.model_fields_set else loc
        for target in TARGETS[kind].values():
            if not target.required or target.name in mapped:
                continue
            if target.group is not None:
                if any(n.startswith(f"{target.group}.") for n in mapped):
                    self.problem(
                        where,
                        f"{target.name} must be mapped (a path, constant or default) when "
                        f"other {target.group} fields are",
                    )
                continue
            if target.name == "priority" and "impact" in mapped and "urgency" in mapped:
                continue
            hint = " (or both impact and urgency)" if target.name == "priority" else ""
            self.problem(
                where,
                f"{kind.value} needs a source for required field '{target.name}'{hint}: "
                "a path, a constant or a default",
            )

    def _comments(self, spec: CommentsSpec, owner: str, loc: Loc) -> CommentsReader | None:
        before = len(self.problems)
        get_list = self._getter(spec.path, (*loc, "path"))
        parts: dict[str, FieldReader | None] = {}
        for name, target in _COMMENT.items():
            sub: FieldSpec | None = getattr(spec, name)
            parts[name] = (
                None if sub is None else self._field(sub, target, f"{owner} comment", (*loc, name))
            )
        if len(self.problems) > before or get_list is None:
            return None
        body = parts["body"]
        assert body is not None
        visibility = parts["visibility"] or FieldReader((), default=Visibility.INTERNAL)
        return CommentsReader(
            get_list,
            spec.path,
            body=body,
            id=parts["id"],
            author=parts["author"],
            created_at=parts["created_at"],
            visibility=visibility,
        )

    def _condition(self, condition: Condition, loc: Loc) -> Matcher | None:
        get = self._getter(condition.path, (*loc, "path"))
        if get is None:
            return None
        wanted = frozenset(fold(v) for v in condition.equals)
        label = condition.path
        return _matcher(get, wanted, label)

    def _dispatch(
        self, readers: list[tuple[EntityKind, EntitySpec, EntityReader | None]]
    ) -> tuple[Dispatch, ...]:
        by_path: dict[str, tuple[Getter | None, dict[str, EntityReader], dict[str, str]]] = {}
        for kind, spec, reader in readers:
            path = spec.when.path
            if path not in by_path:
                by_path[path] = (self._quiet_getter(path), {}, {})
            _, table, owners = by_path[path]
            for index, value in enumerate(spec.when.equals):
                folded = fold(value)
                owner = owners.get(folded)
                if owner is not None and owner != kind.value:
                    self.problem(
                        (kind.value, "when", "equals", index),
                        f"'{value}' is already claimed by {owner}'s when",
                    )
                    continue
                owners[folded] = kind.value
                if reader is not None:
                    table[folded] = reader
        return tuple(
            (get, path, table) for path, (get, table, _) in by_path.items() if get is not None
        )

    @staticmethod
    def _quiet_getter(path: str) -> Getter | None:
        try:
            return getter(path)
        except PathSyntaxError:
            return None  # reported by _condition


def _matcher(get: Getter, wanted: frozenset[str], label: str) -> Matcher:
    def matches(doc: dict[str, Any]) -> bool:
        value = get(doc)
        if value is None or type(value) in (dict, list):
            return False
        text = value if type(value) is str else code_text(value, label)
        return text in wanted or fold(text) in wanted

    return matches


def _expected(target: Target) -> str:
    if target.vocabulary:
        return "one of: " + ", ".join(target.vocabulary)
    return {"bool": "true or false", "int": "a whole number"}.get(target.kind, "a text")
