"""What every input to the engine carries: when it was true, and where it came from."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Stamped"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Stamped:
    """The engine judges an input's staleness by ``as_of`` (unix seconds) against ``now``;
    ``source`` names the feed, file or operator it came from."""

    as_of: float
    source: str
