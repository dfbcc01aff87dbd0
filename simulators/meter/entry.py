"""The ``make: meter`` entry of a site file (simulators/meter/site_entry.py says what it means)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, NonNegativeFloat, field_validator

from simulators.entry import LoopbackAddress, SiteEntry
from simulators.meter.site_entry import valid_meter_faults

__all__ = ["MeterEntry"]


class MeterEntry(SiteEntry):
    """The site power meter: serves the sum of every simulated device's power."""

    make: Literal["meter"]
    address: LoopbackAddress
    port: Annotated[int, Field(ge=1, le=65535)] | None = None  # None: the fleet's Modbus port
    unit_id: Annotated[int, Field(ge=0, le=255)] = 1
    feeds: Annotated[int, Field(ge=0, le=32)] = 2
    base_load_w: NonNegativeFloat = 0.0
    noise: Annotated[float, Field(ge=0.0, lt=1.0)] = 0.005
    energy_start_wh: NonNegativeFloat = 0.0
    faults: tuple[str, ...] = ()
    count: Literal[1] = 1

    @field_validator("faults")
    @classmethod
    def _known_faults(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return valid_meter_faults(value)

    def addresses(self) -> list[str]:
        return [str(self.address)]
