"""What the MQTT bridge reads: a narrow read model, not the controller's internals.

The bridge depends on this Protocol and on the command service only, so it can move
(another process, another transport) without touching the control loop.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from controller.state.control import EventRecord

__all__ = ["DeviceRow", "PlanSummary", "SiteStatus", "SiteView"]


@dataclass(frozen=True, slots=True, kw_only=True)
class SiteStatus:
    metered_w: float
    metered_source: str
    commanded_w: float | None  # what the plan expects once its commands take effect
    limit_w: float | None  # the plan's site limit; None when unlimited
    hashrate_hs: float
    devices_by_health: Mapping[str, int]
    devices_by_state: Mapping[str, int]
    events_active: Sequence[str]
    paused: bool
    paused_reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class PlanSummary:
    seq: int
    at: float
    expected_site_w: float
    limit_w: float | None
    other_load_w: float
    trigger: str  # what made the loop plan: interval, event, override, ...
    notes: Sequence[str]  # the reasons the plan gives


@dataclass(frozen=True, slots=True, kw_only=True)
class DeviceRow:
    """One device's telemetry, in the order of ``DEVICE_COLUMNS`` (payloads.py)."""

    device: str
    make: str
    model: str
    health: str
    state: str | None
    hashrate_hs: float | None
    power_w: float | None
    power_limit_w: float | None
    temperature_c: float | None
    uptime_s: float | None


class SiteView(Protocol):
    """The site as the bridge publishes it."""

    @property
    def site(self) -> str: ...

    def status(self, now: float) -> SiteStatus: ...

    def plan(self) -> PlanSummary | None: ...

    def events(self) -> Iterable[EventRecord]: ...

    def event_confirmed(self, event_id: str) -> bool: ...

    async def compliance(self, event: EventRecord) -> dict[str, Any]: ...

    def devices(self) -> Iterable[DeviceRow]: ...

    def signal_ages(self, now: float) -> Mapping[str, float | None]: ...

    async def executed_commands(self) -> list[str]:
        """Ids of the MQTT commands the journal shows carried out (oldest first)."""
        ...
