"""What a meter read returns."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["MeterReading"]


@dataclass(frozen=True, slots=True)
class MeterReading:
    """One consistent read of the site meter.

    ``taken_at`` is unix seconds when the reply arrived. ``feeds_w`` follows the order
    of the register map's ``feed_power`` (empty when it has none). ``energy_wh`` is the
    meter's import counter, None when the map has no energy register.
    """

    taken_at: float
    total_w: float
    feeds_w: tuple[float, ...]
    energy_wh: float | None
