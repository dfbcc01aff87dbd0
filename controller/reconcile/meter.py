"""Site power: the Modbus meter when it answers, summed device telemetry when it does not.

The meter driver is ``drivers.meter.ModbusMeter``; the loop
only needs :class:`SiteMeter` — ``read()`` returning something with ``total_w`` and
``taken_at``, and ``close()`` — so tests may hand in any such object. Losing the
meter is logged once, and every sample says which source it came from.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import statistics
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from controller.config_sections import MeterConfig
from controller.errors import ConfigError
from controller.fleet import Fleet
from drivers import DriverError
from drivers.meter import ModbusMeter, RegisterMap, RegisterMapError

__all__ = ["SiteMeter", "SitePower", "SitePowerWatch", "open_meter"]

log = logging.getLogger(__name__)


class _Reading(Protocol):
    @property
    def total_w(self) -> float: ...

    @property
    def taken_at(self) -> float: ...


class SiteMeter(Protocol):
    async def read(self) -> _Reading: ...

    async def close(self) -> None: ...


@dataclass(frozen=True, slots=True)
class SitePower:
    watts: float
    at: float
    source: str  # "meter" | "telemetry"
    detail: str = ""


def open_meter(config: MeterConfig) -> SiteMeter:
    """The configured Modbus meter (nothing is sent until the first read)."""
    try:
        registers = (
            RegisterMap.from_dict(config.registers) if config.registers else RegisterMap.default()
        )
    except RegisterMapError as exc:
        raise ConfigError(f"meter.registers: {exc}") from None
    return ModbusMeter(
        config.host,
        port=config.port,
        unit_id=config.unit_id,
        register_map=registers,
        timeout_s=config.timeout_s,
    )


class SitePowerWatch:
    """Reads the meter every ``interval_s``; :meth:`latest` falls back to telemetry."""

    def __init__(
        self,
        fleet: Fleet,
        meter: SiteMeter | None,
        *,
        interval_s: float = 2.0,
        timeout_s: float = 2.0,
        on_sample: Callable[[SitePower], None] | None = None,
        counted_devices_w: Callable[[], float | None] | None = None,
    ) -> None:
        self._fleet = fleet
        self._meter = meter
        self._interval_s = interval_s
        self._timeout_s = timeout_s
        self._on_sample = on_sample
        # How the policy counts the fleet as it stands (the last plan's figure), so the
        # meter less it is load no device accounts for, never a device counted twice.
        self._counted_devices_w = counted_devices_w
        self._last_meter: SitePower | None = None
        self._meter_error: str | None = None if meter is not None else "no meter configured"
        # Recent samples of the meter less the devices: the median rides out the few
        # seconds in which the meter has seen a change that telemetry has not yet.
        self._residuals: deque[float] = deque(maxlen=5)

    @property
    def meter_ok(self) -> bool:
        return self._meter_error is None

    @property
    def meter_error(self) -> str | None:
        return self._meter_error

    def other_load_w(self) -> float:
        """What the meter sees that no device accounts for: cooling, offices, losses.

        Devices count as the policy counts them (the last plan's figure), so nothing is
        counted twice, and nothing is estimated before the first plan. The last estimate
        holds while the meter is away, as a grid level still applies to the whole site;
        zero until a meter has answered.
        """
        return statistics.median(self._residuals) if self._residuals else 0.0

    def telemetry_power(self) -> SitePower:
        _, watts = self._fleet.totals()
        return SitePower(watts, time.time(), "telemetry", self._meter_error or "")

    def latest(self) -> SitePower:
        last = self._last_meter
        fresh = 3 * self._interval_s + self._timeout_s
        if last is not None and self._meter_error is None and time.time() - last.at <= fresh:
            return last
        return self.telemetry_power()

    async def read_once(self) -> SitePower:
        if self._meter is None:
            return self.telemetry_power()
        try:
            async with asyncio.timeout(self._timeout_s + 1.0):
                reading = await self._meter.read()
        except (DriverError, TimeoutError, OSError) as exc:
            message = getattr(exc, "message", None) or repr(exc)
            if self._meter_error is None:
                log.warning("site meter unavailable (%s): using summed device telemetry", message)
            self._meter_error = f"meter unavailable: {message}"
            return self.telemetry_power()
        if self._meter_error is not None:
            log.info("site meter answering again; confirming on the meter")
            self._meter_error = None
        sample = SitePower(float(reading.total_w), time.time(), "meter")
        self._last_meter = sample
        counted = self._counted_devices_w() if self._counted_devices_w else None
        if counted is not None:
            self._residuals.append(max(0.0, sample.watts - counted))
        return sample

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            sample = await self.read_once()
            if self._on_sample is not None:
                self._on_sample(sample)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=self._interval_s)

    async def close(self) -> None:
        if self._meter is not None:
            with contextlib.suppress(DriverError, OSError):
                await self._meter.close()
