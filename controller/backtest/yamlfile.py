"""YAML inputs validated with pydantic, with errors that point at the line of the field."""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from controller.backtest.errors import BacktestError

__all__ = ["field_path", "load_yaml_model"]

_M = TypeVar("_M", bound=BaseModel)


def field_path(loc: tuple[int | str, ...]) -> str:
    """``("events", 2, "start")`` -> ``events[2].start``."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


def _line_of(node: yaml.Node | None, loc: tuple[int | str, ...]) -> int | None:
    """The 1-based line of the deepest node along ``loc`` that the document has."""
    line = None if node is None else node.start_mark.line + 1
    for part in loc:
        child: yaml.Node | None = None
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                if isinstance(key, yaml.ScalarNode) and key.value == str(part):
                    child = value
                    break
        elif (
            isinstance(node, yaml.SequenceNode)
            and isinstance(part, int)
            and 0 <= part < len(node.value)
        ):
            child = node.value[part]
        if child is None:
            break
        node, line = child, child.start_mark.line + 1
    return line


def load_yaml_model(
    path: Path, model: type[_M], *, what: str, context: dict[str, Any] | None = None
) -> _M:
    """Read ``path`` and validate it as ``model``; any problem is one BacktestError."""
    name = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise BacktestError(f"cannot read the {what}: {exc.strerror}", file=name) from None
    try:
        root = yaml.compose(text)
        data: Any = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        raise BacktestError(f"not valid YAML ({what})", file=name, line=line) from None
    if not isinstance(data, dict):
        raise BacktestError(f"the {what} must be a mapping", file=name, line=1)
    try:
        return model.model_validate(data, context=context)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        loc = tuple(first["loc"])
        message = str(first["msg"]).removeprefix("Value error, ")
        raise BacktestError(
            message, file=name, line=_line_of(root, loc), field=field_path(loc)
        ) from None
