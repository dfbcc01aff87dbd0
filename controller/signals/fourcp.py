"""4CP peak flags: a provider's 15-minute yes/no forecast of the month's coincident peak.

The configured URL answers JSON (docs/signals.md)::

    {"flags": [{"start": "2026-08-17T21:30:00Z", "end": "2026-08-17T21:45:00Z", "peak": true}]}

Each ``peak: true`` window becomes a 4CP event (be off for it: the policy starts the shed
early enough for the declared ramp-down rate); a window flagged and later unflagged is
withdrawn (its event is cancelled). Windows already over are skipped.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Unpack

from pydantic import Field, ValidationError

from controller.clock import Clock
from controller.signals._json import Lenient, TimeWindow, epoch_seconds, malformed
from controller.signals.source import AgeFrom, Upstream, UrlSource
from controller.signals.updates import Contact, FlagUpdate, Update

__all__ = ["FourCpSource", "parse_flags"]


class _Flag(TimeWindow):
    peak: bool


class _Flags(Lenient):
    flags: Annotated[list[_Flag], Field(max_length=10_000)]


def parse_flags(body: bytes) -> list[tuple[float, float, bool]]:
    """(start, end, peak) windows in time order."""
    try:
        doc = _Flags.model_validate_json(body)
    except ValidationError as exc:
        raise malformed("4CP flags", exc) from None
    return sorted((epoch_seconds(f.start), epoch_seconds(f.end), f.peak) for f in doc.flags)


class FourCpSource(UrlSource):
    age_from = AgeFrom.CONTACT

    def __init__(self, name: str, clock: Clock, **upstream: Unpack[Upstream]) -> None:
        super().__init__(name, clock, **upstream)
        self._sent: dict[tuple[float, float], bool] = {}

    async def poll(self) -> Sequence[Update]:
        body = await self.get()
        now = self.clock.time()
        updates: list[Update] = [Contact(source=self.name, origin_at=now)]
        for start, end, peak in parse_flags(body):
            if end <= now or self._sent.get((start, end)) == peak:
                continue  # over, or no news
            if not peak and (start, end) not in self._sent:
                self._sent[(start, end)] = peak
                continue  # a "no" for a window never flagged: nothing to withdraw
            self._sent[(start, end)] = peak
            updates.append(
                FlagUpdate(source=self.name, origin_at=now, active=peak, start=start, end=end)
            )
        for key in [k for k in self._sent if k[1] <= now]:
            del self._sent[key]
        return updates
