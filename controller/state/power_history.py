"""A bounded in-memory history of site power, for the operator page's chart.

One point per ``step_s`` at most (the meter answers every couple of seconds; a chart
of the last hours needs far fewer), and ``span_s`` of them at most, so the memory is
fixed: six hours at five seconds is 4,320 small tuples. Nothing here survives a
restart; the journal keeps what an audit needs (meter samples during events).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

__all__ = ["PowerHistory", "PowerPoint"]


@dataclass(frozen=True, slots=True, kw_only=True)
class PowerPoint:
    at: float
    metered_w: float
    source: str  # "meter" | "telemetry"
    commanded_w: float | None  # what the plan expects the whole site to draw
    limit_w: float | None  # the most the plan lets the whole site draw (None: no plan yet)


class PowerHistory:
    def __init__(self, *, span_s: float = 6 * 3600.0, step_s: float = 5.0) -> None:
        if span_s <= 0 or step_s <= 0:
            raise ValueError("span_s and step_s must be positive")
        self.span_s = span_s
        self.step_s = step_s
        self._points: deque[PowerPoint] = deque(maxlen=int(span_s / step_s) + 1)

    def add(self, point: PowerPoint) -> bool:
        """Keep ``point`` unless the last kept one is under a step older; True if kept."""
        if self._points and point.at - self._points[-1].at < self.step_s:
            return False
        self._points.append(point)
        return True

    def since(self, at: float) -> list[PowerPoint]:
        return [p for p in self._points if p.at >= at]

    def __len__(self) -> int:
        return len(self._points)
