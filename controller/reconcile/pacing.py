"""Wakes go out at least a spacing apart, whichever plan, retry or re-confirmation queued them.

A plan staggers its own wakes, but a restore is often spread over several plans, and a
congested send gate can release two waiting wakes together. Each wake therefore books
a send slot when it is due, and is checked once more as it goes out.
"""

from __future__ import annotations

import math

__all__ = ["WakePacer"]


class WakePacer:
    def __init__(self, spacing_s: float) -> None:
        self.spacing_s = spacing_s
        self._next_free = 0.0
        self._last_sent = -math.inf

    def book(self, now: float) -> float:
        """The earliest free slot from ``now``; it is then taken."""
        at = max(now, self._next_free)
        self._next_free = at + self.spacing_s
        return at

    def clear_to_send(self, now: float) -> bool:
        # A timer may fire a little early; a tenth of the spacing is not a second wake.
        return now >= self._last_sent + 0.9 * self.spacing_s

    def sent(self, now: float) -> None:
        self._last_sent = now
