"""Read the hub configuration from YAML, failing with file, line and reason.

Everything that can be wrong with the file ends as one :class:`ConfigError` listing every
problem found at that stage: the file cannot be read; it is not valid UTF-8 or YAML; the
YAML has duplicate keys or unsupported constructs; the content does not validate against
:class:`SchakelConfig`. Nothing else escapes :func:`load_config`.
"""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import ValidationError

from services.config._problems import PROBLEMS_KEY, Loc
from services.config._yaml import Document, compose
from services.config.errors import ConfigError, ConfigProblem
from services.config.models import SchakelConfig

__all__ = ["load_config"]


def load_config(path: str | os.PathLike[str]) -> SchakelConfig:
    """Load and validate the configuration at ``path``.

    Problems are reported with ``path`` as given, so a relative path stays relative in
    the messages. The result remembers its :attr:`SchakelConfig.source_path`, against which
    relative paths in it (such as a supplier's ``mapping``) are resolved.
    """
    source = Path(path)
    file = os.fspath(path)
    text = _read(source, file)
    try:
        root = compose(text, file)
        if root is None:
            raise ConfigError([ConfigProblem(file, 1, 1, "", "the file is empty")])
        document = Document(root, file)
    except RecursionError:
        raise ConfigError([ConfigProblem(file, None, None, "", "nested too deeply")]) from None
    if document.problems:
        raise ConfigError(document.problems)
    try:
        config = SchakelConfig.model_validate(document.data)
    except ValidationError as exc:
        raise ConfigError(_problems(document, exc)) from None
    config._source_path = source
    return config


def _read(source: Path, file: str) -> str:
    try:
        raw = source.read_bytes()
    except FileNotFoundError:
        message = "no such file"
    except IsADirectoryError:
        message = "is a directory, not a file"
    except OSError as exc:
        message = f"cannot read: {exc.strerror or exc}"
    else:
        try:
            return raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            line = raw.count(b"\n", 0, exc.start) + 1
            column = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
            problem = ConfigProblem(file, line, column, "", "not valid UTF-8")
            raise ConfigError([problem]) from None
    raise ConfigError([ConfigProblem(file, None, None, "", message)])


def _problems(document: Document, exc: ValidationError) -> list[ConfigProblem]:
    problems: list[ConfigProblem] = []
    for error in exc.errors(include_url=False):
        loc: Loc = tuple(error["loc"])
        located = (error.get("ctx") or {}).get(PROBLEMS_KEY)
        if located:
            problems += [document.problem((*loc, *rel), message) for rel, message in located]
        else:
            problems.append(document.problem(loc, error["msg"]))
    return sorted(problems, key=lambda p: (p.line or 0, p.column or 0))
