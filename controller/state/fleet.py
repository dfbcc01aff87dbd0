"""The controller's record of every device: identity, driver, latest reading, health.

Health changes are logged once when they happen, never on every failed poll
(Home Assistant's update-coordinator habit).
"""

from __future__ import annotations

import logging
from collections import Counter, deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Literal

from controller.state.domain import DeviceIdentity, Health
from drivers import DeviceInfo, DriverError, MinerDriver, MiningState, Telemetry

__all__ = ["DeviceRecord", "Fleet"]

log = logging.getLogger(__name__)


@dataclass(slots=True, kw_only=True)
class DeviceRecord:
    identity: DeviceIdentity
    driver: MinerDriver
    info: DeviceInfo | None = None  # from the first successful identify()
    telemetry: Telemetry | None = None
    health: Health = Health.UNKNOWN
    consecutive_failures: int = 0
    last_error: str | None = None  # the error's code, e.g. "timeout"; never a credential
    # What the control loop last made the device do, so a plan made before the next
    # reading sees the commanded state instead of sending the same command again.
    commanded: Literal["sleep", "wake"] | None = None
    commanded_at: float = 0.0
    commanded_limit_w: float | None = None  # GPU nodes: the per-GPU limit last set
    # When the device last went from asleep to running or back (policy dwell), and its wakes.
    state_changed_at: float | None = None
    wakes: deque[float] = field(default_factory=lambda: deque(maxlen=64))
    # A device that failed to shed is left out of control until then (compensation).
    stuck_until: float = 0.0
    stuck_reason: str = ""
    ai_class: str | None = None  # GPU nodes: contracted | interruptible | idle
    group: str = ""  # the policy's priority group

    @property
    def model(self) -> str:
        if self.info is not None:
            return self.info.model
        return self.identity.model or "unknown"

    def record_success(self, telemetry: Telemetry) -> None:
        before = self.telemetry
        if before is not None:
            was = before.mining_state is MiningState.SLEEPING
            now = telemetry.mining_state is MiningState.SLEEPING
            if was != now:
                self.state_changed_at = telemetry.taken_at
                if was:
                    self.wakes.append(telemetry.taken_at)
        self.telemetry = telemetry
        self.consecutive_failures = 0
        self.last_error = None
        self._transition(Health.DEGRADED if telemetry.errors else Health.HEALTHY, None)

    def wakes_since(self, since: float) -> int:
        return sum(1 for at in self.wakes if at >= since)

    def record_failure(self, error: DriverError, unreachable_after: int) -> None:
        self.consecutive_failures += 1
        self.last_error = error.code
        unreachable = self.consecutive_failures >= unreachable_after
        self._transition(Health.UNREACHABLE if unreachable else Health.DEGRADED, error)

    def _transition(self, new: Health, error: DriverError | None) -> None:
        old, self.health = self.health, new
        if old is new:
            return
        device = self.identity.device_id
        if error is not None:
            log.warning("device %s %s -> %s: %s", device, old.value, new.value, error.message)
        elif old in {Health.DEGRADED, Health.UNREACHABLE}:
            log.info("device %s recovered: %s -> %s", device, old.value, new.value)
        else:
            log.debug("device %s %s -> %s", device, old.value, new.value)


@dataclass(slots=True)
class Fleet:
    site: str
    records: dict[str, DeviceRecord] = field(default_factory=dict)

    def add(self, record: DeviceRecord) -> None:
        self.records[record.identity.device_id] = record

    def __iter__(self) -> Iterator[DeviceRecord]:
        return iter(self.records.values())

    def __len__(self) -> int:
        return len(self.records)

    def by_health(self) -> Counter[Health]:
        counts: Counter[Health] = Counter(dict.fromkeys(Health, 0))
        counts.update(record.health for record in self)
        return counts

    def totals(self) -> tuple[float, float]:
        """Site hashrate (H/s) and power (W) from the latest readings of healthy devices."""
        hashrate = power = 0.0
        for record in self:
            if record.telemetry is None or record.health is Health.UNREACHABLE:
                continue
            hashrate += record.telemetry.hashrate_hs or 0.0
            power += record.telemetry.power_w or 0.0
        return hashrate, power

    async def close(self) -> None:
        for record in self:
            try:
                await record.driver.close()
            except DriverError as exc:
                log.debug("closing %s: %s", record.identity.device_id, exc)
