"""What the parser fuzz tests share: random JSON shaped like a device's reply, and the
parsers of a protocol module, found by name so that a parser added later is fuzzed too."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from types import ModuleType
from typing import Any

from hypothesis import strategies as st

__all__ = ["device_json", "parsers"]

Parser = Callable[[str, Any], object]


def device_json(keys: Sequence[str], words: Sequence[str]) -> st.SearchStrategy[Any]:
    """Scalars that trip parsers (NaN, huge integers, ``words``: strings the devices send)
    nested in lists and in objects keyed mostly by ``keys``, the names the parsers read."""
    scalars = st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-(2**70), 2**70),
        st.floats(allow_nan=True, allow_infinity=True),
        st.text(max_size=12),
        st.sampled_from(words),
    )
    return st.recursive(
        scalars,
        lambda children: (
            st.lists(children, max_size=4)
            | st.dictionaries(st.sampled_from(keys) | st.text(max_size=6), children, max_size=6)
        ),
        max_leaves=25,
    )


def parsers(*modules: ModuleType) -> list[Parser]:
    """Every public ``parse_*(host, reply)`` of ``modules``."""
    found: list[Parser] = []
    for module in modules:
        names = [name for name in module.__all__ if name.startswith("parse_")]
        assert names, f"{module.__name__} exports no parse_* function"
        found += [getattr(module, name) for name in names]
    return found
