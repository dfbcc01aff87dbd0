"""Finding a make's model row by any of its names, however an operator writes them."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Generic, Protocol, TypeVar

__all__ = ["ModelIndex"]


class _Named(Protocol):
    @property
    def name(self) -> str: ...


M = TypeVar("M", bound=_Named)


class ModelIndex(Generic[M]):
    """The models of one make, keyed by ``key`` of each name ``names`` gives a row (a
    later name wins where two rows would share a key)."""

    def __init__(
        self,
        make: str,
        models: Sequence[M],
        key: Callable[[str], str],
        names: Sequence[Callable[[M], str]],
    ) -> None:
        self._make = make
        self._models = models
        self._key = key
        self._by_key: dict[str, M] = {}
        for name_of in names:
            self._by_key |= {key(name_of(m)): m for m in models}

    def find(self, name: str) -> M:
        """The row ``name`` names; KeyError, listing the known models, if none."""
        try:
            return self._by_key[self._key(name)]
        except KeyError:
            known = ", ".join(m.name for m in self._models)
            raise KeyError(f"unknown {self._make} model {name!r} (known: {known})") from None
