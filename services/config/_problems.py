"""Validation problems that point *into* a model, and how locations are written.

Pydantic attaches an error raised by a validator to the location of the model or field the
validator belongs to. A check that spans several fields (unique ids, cross references) knows
better where the fault is: :func:`problems_error` carries the exact locations, relative to
the validated model, in the error context, so the loader can report each at its own line.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from pydantic_core import PydanticCustomError

__all__ = ["ERROR_TYPE", "PROBLEMS_KEY", "Loc", "format_loc", "problems_error"]

Loc = tuple[str | int, ...]

ERROR_TYPE = "schakel_config"
PROBLEMS_KEY = "problems"

_PLAIN_KEY = re.compile(r"[A-Za-z0-9_-]+")


def format_loc(loc: Sequence[str | int]) -> str:
    """Write a location the way a person reads it: ``suppliers[2].value_maps.priority``."""
    out = ""
    for item in loc:
        if isinstance(item, int):
            out += f"[{item}]"
            continue
        key = item if _PLAIN_KEY.fullmatch(item) else '"' + item.replace('"', '\\"') + '"'
        out += f".{key}" if out else key
    return out


def problems_error(problems: Sequence[tuple[Loc, str]]) -> PydanticCustomError:
    """One pydantic error that stands for several problems at precise relative locations."""
    summary = "; ".join(
        f"{format_loc(loc)}: {message}" if loc else message for loc, message in problems
    )
    return PydanticCustomError(
        ERROR_TYPE, "{summary}", {"summary": summary, PROBLEMS_KEY: tuple(problems)}
    )
