"""The engine's output: a target and a reason for every device, and the site total.

A plan for 100,000 devices holds one small table of distinct targets and, per
device, an index into it; :class:`DeviceTarget` objects are built on demand.
"""

from __future__ import annotations

import enum
from array import array
from bisect import bisect_left
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace

from controller.policy.errors import PolicyError
from controller.policy.fleet import Fleet

__all__ = ["Action", "Compensation", "DeviceTarget", "JobAction", "Plan"]


class Action(enum.StrEnum):
    RUN = "run"  # miners hash; GPU nodes are schedulable (at gpu_power_limit_w)
    SLEEP = "sleep"  # miners only
    DRAIN = "drain"  # GPU nodes only: unschedulable, jobs handled per job_actions
    HOLD = "hold"  # leave the device as it is (state unknown, or no lever)


class JobAction(enum.StrEnum):
    CHECKPOINT = "checkpoint"  # ask running jobs to checkpoint (e.g. scancel --signal=USR1)
    REQUEUE = "requeue"  # requeue them elsewhere or later
    SUSPEND = "suspend"  # suspend in place (GPU memory kept, idle draw remains)


@dataclass(frozen=True, slots=True, kw_only=True)
class DeviceTarget:
    device_id: str
    action: Action
    power_w: float  # what the plan counts this device as drawing
    reason: str
    power_target_w: float | None = None  # miners: run at this power target
    gpu_power_limit_w: float | None = None  # GPU nodes: total limit across the node
    job_actions: tuple[JobAction, ...] = ()
    delay_s: float = 0.0  # staggered restore: act this long after the plan is issued

    @property
    def schedulable(self) -> bool | None:
        if self.action is Action.RUN and self.gpu_power_limit_w is not None:
            return True
        return False if self.action is Action.DRAIN else None


@dataclass(frozen=True, slots=True)
class Compensation:
    """Devices shed under a grid limit in place of stuck ones (that did not act).

    ``shed`` are the plan's last grid sheds, the ones the limit would not have needed
    had the stuck devices been at their floor; together they cover ``watts`` (the
    stuck devices' draw above their floor) or, when the limit cannot be met, all the
    plan could shed.
    """

    stuck: tuple[str, ...] = ()  # stuck devices drawing above their floor, in id order
    shed: tuple[str, ...] = ()  # devices shed in their place, in id order
    watts: float = 0.0  # the stuck devices' draw above their floor

    def __bool__(self) -> bool:
        return bool(self.stuck)


@dataclass(frozen=True, slots=True, eq=False, kw_only=True)
class Plan:
    """A deterministic plan. ``limit_w`` is the most it may draw (cap or event, less reserve)."""

    now: float
    expected_site_w: float
    limit_w: float
    observed_site_w: float
    notes: tuple[str, ...]
    stale: bool
    relay_latched: bool
    infeasible: bool  # even with every lever shed the site stays above limit_w
    fleet: Fleet
    template_index: array[int]  # per device, in fleet order: index into templates
    templates: tuple[DeviceTarget, ...]  # device_id is empty in these
    delays: Mapping[int, float]
    compensation: Compensation = Compensation()
    # The fleet as it stands, counted as the policy counts it (each device at its current
    # level's power; unknown ones at nameplate): the meter less this is the site's other load.
    counted_now_w: float = 0.0
    # How far ramping miners draw below what counted_now_w counts them at.
    ramp_shortfall_w: float = 0.0
    # The load outside the fleet this plan took off the limit (limit_w is what is left).
    other_load_w: float = 0.0

    def __len__(self) -> int:
        return len(self.template_index)

    def target_at(self, index: int) -> DeviceTarget:
        device_id = self.fleet.devices[index].device_id
        target = self.templates[self.template_index[index]]
        return replace(target, device_id=device_id, delay_s=self.delays.get(index, 0.0))

    def target(self, device_id: str) -> DeviceTarget:
        devices = self.fleet.devices
        index = bisect_left(devices, device_id, key=lambda d: d.device_id)
        if index == len(devices) or devices[index].device_id != device_id:
            raise PolicyError(f"device {device_id!r} is not in this plan")
        return self.target_at(index)

    def targets(self) -> Iterator[DeviceTarget]:
        for index in range(len(self.template_index)):
            yield self.target_at(index)

    def reason_counts(self) -> Counter[str]:
        """How many devices share each reason: the plan's summary for people."""
        per_template = Counter(self.template_index)
        counts: Counter[str] = Counter()
        for index, n in per_template.items():
            counts[self.templates[index].reason] += n
        return counts
