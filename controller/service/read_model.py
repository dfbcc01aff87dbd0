"""What the outputs may read: one read model for the API, the metrics, the operator page,
the MQTT bridge and the demo's summary.

Outputs are built against :class:`ReadModel`, never against the controller's parts, so
that a part can change (or move to another process) by changing only the implementation
(:mod:`controller.service.live`). What they may ask for is the command service
(:mod:`controller.service.control`). Rows are frozen plain data; the live records
handed out (:class:`~controller.state.fleet.DeviceRecord`, the plan view) are read, never
written.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from controller import policy
    from controller.journal.store import Entry
    from controller.reconcile.loop import LoopStats
    from controller.reconcile.meter import SitePower
    from controller.reconcile.plans import PlanView
    from controller.state.control import EventRecord, Override
    from controller.state.domain import Health
    from controller.state.fleet import DeviceRecord
    from controller.state.poller import PollStats
    from controller.state.power_history import PowerPoint

__all__ = [
    "ControlRow",
    "DeviceRow",
    "Forecast",
    "JournalHealth",
    "PlanGroup",
    "PlanRow",
    "PlanSummary",
    "ReadModel",
    "SignalRow",
    "SiteStatus",
    "TelemetryRow",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class DeviceRow:
    """One device as the operator page lists it."""

    device: str
    make: str
    model: str
    rack: str | None
    state: str  # MiningState value, or "unknown" before the first reading
    health: str  # Health value
    power_w: float | None
    stuck: str | None  # why it is left out of control, while it is
    refusing: str | None  # levers it answered "unsupported" or "denied" to
    last_error: str | None
    override: str | None  # the live override's action


@dataclass(frozen=True, slots=True, kw_only=True)
class TelemetryRow:
    """One device's reading as MQTT publishes it (``DEVICE_COLUMNS``, mqtt/payloads.py):
    non-finite values are ``None``; ``state`` is ``None`` before the first reading."""

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


@dataclass(frozen=True, slots=True, kw_only=True)
class PlanGroup:
    action: str
    reason: str
    devices: tuple[str, ...]
    power_w: float


@dataclass(frozen=True, slots=True, kw_only=True)
class PlanRow:
    """The plan as the page shows it: whole-site watts, targets grouped by reason."""

    seq: int
    at: float
    trigger: str  # what made the loop plan
    limit_w: float | None  # whole site
    expected_w: float  # whole site
    other_load_w: float
    grid_binding: bool
    infeasible: bool
    notes: tuple[str, ...]
    groups: tuple[PlanGroup, ...]
    commands: Mapping[str, int]  # command name -> how many this plan sends


@dataclass(frozen=True, slots=True, kw_only=True)
class PlanSummary:
    """The plan as MQTT publishes it: the fleet's watts (without the other load)."""

    seq: int
    at: float
    expected_site_w: float
    limit_w: float | None
    other_load_w: float
    trigger: str  # what made the loop plan: interval, event, override, ...
    notes: Sequence[str]  # the reasons the plan gives


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
class SignalRow:
    name: str
    value: float | None
    unit: str
    as_of: float | None
    source: str
    max_age_s: float | None  # older than this, the controller stops trusting it


@dataclass(frozen=True, slots=True, kw_only=True)
class ControlRow:
    paused: bool
    paused_reason: str | None
    dry_run: bool
    enabled: bool
    writes_enabled: bool  # an API token is configured


@dataclass(frozen=True, slots=True, kw_only=True)
class Forecast:
    source: str
    as_of: float
    intervals: tuple[tuple[float, float, float], ...]  # (start, end, USD/MWh)


@dataclass(frozen=True, slots=True, kw_only=True)
class JournalHealth:
    run: int
    rows_written: int
    rows_failed: int
    error: str | None  # the last write's error; None while writes work


class ReadModel(Protocol):
    """The site as every output reads it."""

    @property
    def site(self) -> str: ...

    def now(self) -> float:
        """The controller's clock (controller/clock.py), for every ``now`` below."""
        ...

    # ---- the fleet ---------------------------------------------------------------------

    def records(self) -> Iterable[DeviceRecord]: ...

    def record(self, device_id: str) -> DeviceRecord | None: ...

    def totals(self) -> tuple[float, float]:
        """Reachable devices' hashrate (H/s) and power (W)."""
        ...

    def by_health(self) -> Mapping[Health, int]: ...

    def poll_stats(self) -> PollStats: ...

    def queued(self, device_id: str) -> Sequence[str]:
        """Names of the commands waiting for the device."""
        ...

    def devices(self, now: float) -> Sequence[DeviceRow]: ...

    def telemetry(self) -> Iterable[TelemetryRow]: ...

    # ---- what the operator and the grid asked for --------------------------------------

    def control(self) -> ControlRow: ...

    def events(self) -> Sequence[EventRecord]:
        """Every known event, oldest first."""
        ...

    def event(self, event_id: str) -> EventRecord:
        """Raises :class:`~controller.service.control.NotFound`."""
        ...

    def active_events(self, now: float) -> Sequence[EventRecord]: ...

    def event_confirmed(self, event_id: str) -> bool: ...

    def overrides(self, now: float) -> Mapping[str, Override]: ...

    def relay_cleared_at(self) -> float | None: ...

    def forecast(self) -> Forecast | None: ...

    # ---- the plan and the loop ---------------------------------------------------------

    def plan_view(self) -> PlanView | None: ...

    def plan(self) -> PlanRow | None: ...

    def plan_summary(self) -> PlanSummary | None: ...

    def loop_stats(self) -> LoopStats: ...

    def commands(self) -> Mapping[str, int]:
        """Command attempts by result."""
        ...

    def unsupported(self) -> Mapping[str, Mapping[str, str]]:
        """Levers a device answered "unsupported" to: device -> lever -> why."""
        ...

    # ---- power, prices, signals --------------------------------------------------------

    def site_power(self) -> SitePower: ...

    def meter_ok(self) -> bool: ...

    def power(self, since: float) -> Sequence[PowerPoint]: ...

    def economics(self, now: float) -> policy.Economics: ...

    def max_ages_s(self) -> Mapping[str, float]:
        """Age past which the policy stops trusting each input."""
        ...

    def signals(self, now: float) -> Sequence[SignalRow]: ...

    def signal_ages(self, now: float) -> Mapping[str, float | None]: ...

    def status(self, now: float) -> dict[str, Any]:
        """The API's status document: fleet summary, control state, site power, plan."""
        ...

    def site_status(self, now: float) -> SiteStatus: ...

    def economics_document(self, now: float) -> dict[str, Any]: ...

    # ---- the journal -------------------------------------------------------------------

    def journal_health(self) -> JournalHealth: ...

    async def report(self, event: EventRecord) -> Mapping[str, Any]:
        """The event's compliance report (controller/reconcile/compliance.py)."""
        ...

    async def journal_entries(
        self, kinds: Sequence[str] | None, *, subject: str | None, since_seq: int, limit: int
    ) -> Sequence[Entry]: ...

    async def executed_commands(self, actor_prefix: str) -> list[str]:
        """Ids of the commands from ``actor_prefix`` the journal shows carried out."""
        ...
