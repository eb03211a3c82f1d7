"""Reading a mapping file: YAML with positions, then the document model (shape checks).

:func:`load_mapping` gives a :class:`LoadedMapping` (the validated document and the position
of every key) or raises :class:`~connectors.mapped.errors.MappingError` naming file, line and
reason for every problem found. What needs the common model is checked when the mapping is
compiled (:func:`connectors.mapped._compile.compile_mapping`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from connectors.mapped._yaml import Loc, YamlData, compose
from connectors.mapped.errors import MappingError, Problem
from connectors.mapped.model import MappingDocument

__all__ = ["LoadedMapping", "load_mapping", "mapping_path", "problem_at", "where"]

_PLAIN_KEY = re.compile(r"[A-Za-z0-9_.-]+")


@dataclass(frozen=True, slots=True)
class LoadedMapping:
    """A mapping document whose shape is valid, with where each of its keys stands."""

    file: str
    document: MappingDocument
    yaml: YamlData


def mapping_path(options: Mapping[str, str]) -> Path:
    """The mapping file named by a supplier's options: ``mapping``, relative to ``config_dir``."""
    name = options.get("mapping")
    if not name:
        raise MappingError(
            "(no mapping)",
            [
                Problem(
                    None,
                    None,
                    "",
                    "a supplier of system 'mapped' needs the option 'mapping': the path of its "
                    "YAML mapping, relative to the hub configuration",
                )
            ],
        )
    path = Path(name)
    if not path.is_absolute():
        path = Path(options.get("config_dir") or ".") / path
    return path


def load_mapping(path: str | Path) -> LoadedMapping:
    """The mapping document in ``path``; MappingError listing every problem of its shape."""
    path = Path(path)
    file = _display(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        problem = Problem(None, None, "", f"cannot read the mapping: {reason}")
        raise MappingError(file, [problem]) from None
    data = compose(text)
    problems = [
        Problem(pos[0] if pos else None, pos[1] if pos else None, where(loc), reason)
        for loc, reason, pos in data.problems
    ]
    document: MappingDocument | None = None
    if data.data is not None and not isinstance(data.data, dict):
        problems.append(problem_at(data, (), "a mapping document is a YAML mapping (key: value)"))
    elif data.data is not None:
        try:
            document = MappingDocument.model_validate(data.data)
        except ValidationError as exc:
            problems.extend(_from_pydantic(data, exc))
    if problems or document is None:
        raise MappingError(file, sorted_problems(problems))
    return LoadedMapping(file, document, data)


def problem_at(data: YamlData, loc: Loc, reason: str) -> Problem:
    pos = data.position(loc)
    return Problem(pos[0] if pos else None, pos[1] if pos else None, where(loc), reason)


def sorted_problems(problems: list[Problem]) -> list[Problem]:
    return sorted(problems, key=lambda p: (p.line or 0, p.column or 0))


def where(loc: Loc) -> str:
    """``incident.fields.status``, ``event_key[1]``, ``value_maps.statussen."Nieuw"``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
            continue
        text = part if _PLAIN_KEY.fullmatch(part) else '"' + part.replace('"', '\\"') + '"'
        out += f".{text}" if out else text
    return out


def _from_pydantic(data: YamlData, exc: ValidationError) -> list[Problem]:
    problems = []
    for error in exc.errors(include_url=False):
        loc: Loc = tuple(error["loc"])
        kind = error["type"]
        if kind == "extra_forbidden":
            reason = f"unknown key '{loc[-1]}'"
        elif kind == "missing":
            reason = f"missing key '{loc[-1]}'"
        elif kind == "literal_error" and loc == ("mapping_version",):
            reason = "mapping_version must be 1 (the only version of the mapping language)"
        else:
            reason = str(error["msg"]).removeprefix("Value error, ")
        problems.append(problem_at(data, loc, reason))
    return problems


def _display(path: Path) -> str:
    """The path as an operator would type it: relative to the working directory when inside."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except (ValueError, OSError):
        return str(path)
