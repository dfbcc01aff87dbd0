"""What the operator page reads, and nothing more: a narrow read model.

The page's data endpoint is built against :class:`SiteReadModel`, not against the
controller's parts, so that when the controller's outputs move onto a read model
of their own only the adapter (``web_source``) changes. Rows are frozen plain data.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from controller.state.control import EventRecord
from controller.state.power_history import PowerPoint

__all__ = [
    "ControlRow",
    "DeviceRow",
    "PlanGroup",
    "PlanRow",
    "SignalRow",
    "SiteReadModel",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class DeviceRow:
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
class PlanGroup:
    action: str
    reason: str
    devices: tuple[str, ...]
    power_w: float


@dataclass(frozen=True, slots=True, kw_only=True)
class PlanRow:
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


class SiteReadModel(Protocol):
    @property
    def site(self) -> str: ...

    def control(self) -> ControlRow: ...

    def devices(self, now: float) -> Sequence[DeviceRow]: ...

    def plan(self) -> PlanRow | None: ...

    def signals(self, now: float) -> Sequence[SignalRow]: ...

    def events(self) -> Sequence[EventRecord]: ...

    def event_confirmed(self, event_id: str) -> bool: ...

    async def report(self, event: EventRecord) -> Mapping[str, Any]: ...

    def power(self, since: float) -> Sequence[PowerPoint]: ...

    def commands(self) -> Mapping[str, int]: ...
