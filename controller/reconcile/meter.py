"""Site power: the Modbus meter when it answers, an estimate marked as such when it does not.

The meter driver is ``drivers.meter.ModbusMeter``; the loop
only needs :class:`SiteMeter` — ``read()`` returning the driver's ``MeterReading``, and
``close()`` — so tests may hand in any such object. Losing the
meter is logged once, and every sample says which source it came from.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import logging
import math
import statistics
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from controller.clock import Clock, wait_any
from controller.config.sections import MeterConfig
from controller.errors import ConfigError
from controller.state.domain import Health
from controller.state.fleet import DeviceRecord, Fleet
from drivers import DriverError, MiningState
from drivers.clock import TimeSource
from drivers.meter import MeterReading, ModbusMeter, RegisterMap, RegisterMapError

__all__ = [
    "OtherLoadSource",
    "PowerSource",
    "SiteMeter",
    "SitePower",
    "SitePowerWatch",
    "open_meter",
]

log = logging.getLogger(__name__)


class SiteMeter(Protocol):
    async def read(self) -> MeterReading: ...

    async def close(self) -> None: ...


class PowerSource(enum.StrEnum):
    METER = "meter"
    ESTIMATED = "estimated"  # device telemetry plus the last known other load


@dataclass(frozen=True, slots=True)
class SitePower:
    watts: float
    at: float
    source: PowerSource
    detail: str = ""

    @property
    def estimated(self) -> bool:
        return self.source != PowerSource.METER


class OtherLoadSource(enum.StrEnum):
    MEASURED = "measured"  # the meter less the devices' own readings, this run
    RESTORED = "restored"  # the last measured value from the journal, or the floor
    CONFIGURED = "configured"  # no meter: grid.other_load_kw


_FRESH_SAMPLES = 3  # residuals this run before the measured value stands on its own
_PERSIST_SHARE = 0.03  # a change worth journaling: 3% of the value, and at least 1 kW
_PERSIST_MIN_W = 1000.0


def open_meter(config: MeterConfig, clock: TimeSource) -> SiteMeter:
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
        clock=clock,
    )


@dataclass(eq=False, slots=True, kw_only=True)
class SitePowerWatch:
    """Reads the meter every ``interval_s``; :meth:`latest` falls back to an estimate.

    It also measures the site's *other load* (cooling, offices, losses): each meter
    sample less the devices' readings at that moment, counted as the policy counts
    them (unreadable ones at nameplate), taken only when no device was commanded for
    ``settle_s`` before it (the meter sees a change before a poll does). The median of
    the last few rides out the rest. Until this run has measured it, the last value
    journaled (:meth:`restore`) or the configured floor, whichever is larger, stands.
    """

    fleet: Fleet
    meter: SiteMeter | None
    interval_s: float = 2.0
    timeout_s: float = 2.0
    on_sample: Callable[[SitePower], None] | None = None
    settle_s: float = 30.0
    other_load_floor_w: float = 0.0
    on_other_load: Callable[[float], None] | None = None
    clock: Clock
    # What it has read and measured so far.
    _last_meter: SitePower | None = field(default=None, init=False)
    _meter_error: str | None = field(default=None, init=False)
    _residuals: deque[float] = field(default_factory=lambda: deque(maxlen=5), init=False)
    _measured: int = field(default=0, init=False)  # residuals taken this run
    _restored_w: float | None = field(default=None, init=False)
    _persisted_w: float | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        if self.meter is None:
            self._meter_error = "no meter configured"

    @property
    def meter_ok(self) -> bool:
        return self._meter_error is None

    @property
    def meter_error(self) -> str | None:
        return self._meter_error

    @property
    def last_meter(self) -> SitePower | None:
        """The last sample the meter itself gave (however old)."""
        return self._last_meter

    def restore(self, watts: float) -> None:
        """The other load last journaled: assumed (at least) until this run measures it."""
        self._restored_w = self._persisted_w = max(0.0, watts)

    @property
    def other_load_source(self) -> OtherLoadSource:
        if self.meter is None:
            return OtherLoadSource.CONFIGURED
        if self._measured >= _FRESH_SAMPLES:
            return OtherLoadSource.MEASURED
        return OtherLoadSource.RESTORED

    def other_load_w(self) -> float:
        """What the meter sees that no device accounts for: cooling, offices, losses.

        Without a meter, the configured figure. With one: the median of recent
        residuals once this run has taken a few; before that, the larger of the value
        journaled before the restart (or the residuals so far) and the configured floor.
        The last estimate holds while the meter is away: a level applies to the whole site.
        """
        if self.meter is None:
            return self.other_load_floor_w
        median = statistics.median(self._residuals) if self._residuals else None
        if self._measured >= _FRESH_SAMPLES and median is not None:
            return median
        known = [w for w in (median, self._restored_w) if w is not None]
        return max([self.other_load_floor_w, *known])

    def devices_w(self) -> float:
        """The fleet's draw as the policy counts it: readings, nameplate where unreadable."""
        total = 0.0
        for record in self.fleet:
            total += _device_w(record)
        return total

    def _settled_devices_w(self, at: float) -> float | None:
        total = 0.0
        for record in self.fleet:
            if record.telemetry is None and record.health is not Health.UNREACHABLE:
                return None  # not read yet: nothing to compare the meter with
            if record.commanded_at > at - self.settle_s:
                return None  # may be mid-change: the meter is ahead of its reading
            total += _device_w(record)
        return total

    def telemetry_power(self) -> SitePower:
        """The site estimated without the meter: device readings plus the known other load."""
        watts = self.devices_w() + self.other_load_w()
        detail = self._meter_error or ""
        return SitePower(watts, self.clock.time(), PowerSource.ESTIMATED, detail)

    def latest(self) -> SitePower:
        last = self._last_meter
        fresh = 3 * self.interval_s + self.timeout_s
        if last is not None and self._meter_error is None and self.clock.time() - last.at <= fresh:
            return last
        return self.telemetry_power()

    async def read_once(self) -> SitePower:
        if self.meter is None:
            return self.telemetry_power()
        try:
            async with asyncio.timeout(self.timeout_s + 1.0):
                reading = await self.meter.read()
            watts = _plausible(float(reading.total_w))
        except (DriverError, TimeoutError, OSError, ValueError) as exc:
            message = getattr(exc, "message", None) or repr(exc)
            if self._meter_error is None:
                log.warning(
                    "site meter unavailable (%s): estimating from device telemetry "
                    "and the last known other load",
                    message,
                )
            self._meter_error = f"meter unavailable: {message}"
            return self.telemetry_power()
        if self._meter_error is not None:
            log.info("site meter answering again; confirming on the meter")
            self._meter_error = None
        sample = SitePower(watts, self.clock.time(), PowerSource.METER)
        self._last_meter = sample
        self._measure(sample)
        return sample

    def _measure(self, sample: SitePower) -> None:
        devices = self._settled_devices_w(sample.at)
        if devices is None:
            return
        self._residuals.append(max(0.0, sample.watts - devices))
        self._measured += 1
        if self._measured < _FRESH_SAMPLES or self.on_other_load is None:
            return
        value = self.other_load_w()
        last = self._persisted_w
        if last is None or abs(value - last) >= max(_PERSIST_MIN_W, _PERSIST_SHARE * last):
            self._persisted_w = value
            self.on_other_load(value)

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            sample = await self.read_once()
            if self.on_sample is not None:
                self.on_sample(sample)
            await wait_any(self.clock, self.interval_s, stop)

    async def close(self) -> None:
        if self.meter is not None:
            with contextlib.suppress(DriverError, OSError):
                await self.meter.close()


def _plausible(watts: float) -> float:
    if not math.isfinite(watts) or watts < 0:
        raise ValueError(f"meter read {watts!r} W")
    return watts


def _device_w(record: DeviceRecord) -> float:
    telemetry, spec = record.telemetry, record.driver.spec
    if record.health is Health.UNREACHABLE or telemetry is None:
        return spec.nameplate_w if spec is not None else 0.0
    if telemetry.power_w is not None:
        return telemetry.power_w
    if spec is None:
        return 0.0
    return spec.sleep_w if telemetry.mining_state is MiningState.SLEEPING else spec.nameplate_w
