"""Random edits of a good document (a config, a site file), for fuzzing what loads it:
each edit either builds or is refused with one line, what the command line prints."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import pytest
import yaml
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

__all__ = [
    "EDITS",
    "assert_newline_key_named",
    "assert_one_line",
    "built_or_refused",
    "edited",
    "example",
    "paths_of",
]

T = TypeVar("T")
EXAMPLES = Path(__file__).resolve().parents[1] / "deploy" / "examples"
EDITS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(2**40), 2**40)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.sampled_from(["", "127.0.0.1", "10.0.0.0/30", "antminer", "slurm", "0", "-1", "1e309"])
    | st.text(max_size=16)
)
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(node, dict):
        for key, child in node.items():
            out += _paths(child, (*prefix, key))
    elif isinstance(node, list):
        for index, child in enumerate(node):
            out += _paths(child, (*prefix, index))
    return out


def paths_of(doc: Any) -> list[tuple[Any, ...]]:
    """Every key or index path into ``doc`` (depth first), for edits to pick from."""
    return [p for p in _paths(doc) if p]


def _edit(doc: dict[str, Any], path: tuple[Any, ...], how: str, value: Any) -> None:
    """Set, delete or add beside the value at ``path``; a path an earlier edit broke is skipped."""
    parent: Any = doc
    try:
        for key in path[:-1]:
            parent = parent[key]
        last = path[-1]
        if how == "delete":
            del parent[last]
        elif how == "add" and isinstance(parent, dict):
            parent[f"{last}_extra"] = value
        else:
            parent[last] = value
    except (KeyError, IndexError, TypeError):
        return


def _apply(base: dict[str, Any], edits: list[tuple[tuple[Any, ...], str, Any]]) -> dict[str, Any]:
    doc = copy.deepcopy(base)
    for path, how, value in edits:
        _edit(doc, path, how, value)
    return doc


def edited(base: dict[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
    """Copies of ``base`` with one to three values set, deleted or added at any depth."""
    one = st.tuples(
        st.sampled_from(paths_of(base)), st.sampled_from(["set", "delete", "add"]), values
    )
    return st.lists(one, min_size=1, max_size=3).map(lambda edits: _apply(base, edits))


def example(name: str) -> dict[str, Any]:
    """A shipped example document, ``deploy/examples/<name>``, as YAML loads it."""
    doc: dict[str, Any] = yaml.safe_load((EXAMPLES / name).read_text())
    return doc


def built_or_refused(
    build: Callable[[dict[str, Any]], T], doc: dict[str, Any], refusal: type[Exception]
) -> T | None:
    """What ``build`` makes of ``doc``, or None where it refuses it with ``refusal`` in
    one line; anything else escaping would be a traceback for the operator."""
    try:
        return build(doc)
    except refusal as exc:
        assert_one_line(exc)
        return None


def assert_newline_key_named(
    build: Callable[[dict[str, Any]], object], base: dict[str, Any], refusal: type[Exception]
) -> None:
    """``base`` with a key holding a newline in its first device is refused with an error
    that names the key escaped, on one line."""
    newline_key = "bad\nkey"
    doc = copy.deepcopy(base)
    doc["devices"][0][newline_key] = 1
    with pytest.raises(refusal) as caught:
        build(doc)
    assert_one_line(caught.value, names=repr(newline_key)[1:-1])


def assert_one_line(error: BaseException, names: str = "") -> None:
    """What the command line prints for a refused document: one line that says something
    (and that names ``names`` where given)."""
    message = str(error)
    assert message.strip()
    assert "\n" not in message
    assert names in message
