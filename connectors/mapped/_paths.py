"""Field paths into a JSON document: ``ticket.meta.created``, ``notities[0].tekst``.

A path is compiled once, when the mapping is loaded, into a getter: a small function that
walks the parsed document without reading the path text again. A getter returns None when
a step is absent (a missing key, an index past the end, or null on the way) and raises
:class:`~connectors.errors.InvalidValue` when the document has another shape than the path
says (a text where an object is expected), so a misshapen payload is never read as "empty".

Syntax: keys separated by dots, each optionally followed by list indexes ``[n]`` (``[-1]`` is
the last item). A key is any text without ``.``, ``[`` or ``]``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from connectors.errors import InvalidValue

__all__ = ["Getter", "PathSyntaxError", "compile_path", "getter", "is_single_key"]

Step = str | int
#: Reads one value out of a JSON object (the document, or one item of a list).
Getter = Callable[[dict[str, Any]], Any]

_SEGMENT = re.compile(r"([^.\[\]]+)((?:\[-?[0-9]+\])*)")
_INDEX = re.compile(r"\[(-?[0-9]+)\]")


class PathSyntaxError(ValueError):
    """A path that does not follow the syntax."""


def compile_path(text: str) -> tuple[Step, ...]:
    """The steps of ``text``: keys (str) and list indexes (int)."""
    if not isinstance(text, str) or not text.strip():
        raise PathSyntaxError("a path must be a non-empty text such as 'applicatie.naam'")
    steps: list[Step] = []
    for part in text.split("."):
        match = _SEGMENT.fullmatch(part)
        if match is None or not match[1].strip():
            raise PathSyntaxError(
                f"'{text}' is not a path: write keys separated by dots, each optionally "
                "followed by list indexes, e.g. 'notities[0].tekst'"
            )
        steps.append(match[1])
        steps.extend(int(i) for i in _INDEX.findall(match[2]))
    return tuple(steps)


def is_single_key(text: str) -> bool:
    """True when the path is one key (``status``): read with a plain ``dict.get``."""
    try:
        return len(compile_path(text)) == 1
    except PathSyntaxError:
        return False


def getter(text: str) -> Getter:
    """A getter for the path ``text``; PathSyntaxError when it is not a path."""
    steps = compile_path(text)
    first = steps[0]
    assert isinstance(first, str)  # the grammar starts every path with a key
    if len(steps) == 1:

        def get_one(doc: dict[str, Any]) -> Any:
            return doc.get(first)

        return get_one
    second = steps[1]
    if len(steps) == 2 and isinstance(second, str):

        def get_two(doc: dict[str, Any]) -> Any:
            value = doc.get(first)
            if type(value) is dict:
                return value.get(second)
            if value is None:
                return None
            raise InvalidValue(first, value, "an object")

        return get_two
    rest = tuple((step, _label(steps[: n + 1])) for n, step in enumerate(steps) if n > 0)

    def get_many(doc: dict[str, Any]) -> Any:
        value: Any = doc.get(first)
        label = first
        for step, next_label in rest:
            if value is None:
                return None
            if type(step) is str:
                if type(value) is not dict:
                    raise InvalidValue(label, value, "an object")
                value = value.get(step)
            else:
                if type(value) is not list:
                    raise InvalidValue(label, value, "a list")
                index: int = step  # type: ignore[assignment]
                if index >= len(value) or index < -len(value):
                    return None
                value = value[index]
            label = next_label
        return value

    return get_many


def _label(steps: tuple[Step, ...]) -> str:
    out = ""
    for step in steps:
        out += f"[{step}]" if isinstance(step, int) else (f".{step}" if out else step)
    return out
