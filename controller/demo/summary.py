"""The one-screen summary ``hashpivot demo`` redraws: states by make, power, plan, story.

GPU nodes are shown in the words an operator uses for them (serving, capped, drained,
idle), not in a miner's mining states: a node the driver reads as "hashing" is one
whose GPUs are powered and reachable, which says nothing about its work.
"""

from __future__ import annotations

import enum
from collections import Counter
from typing import Any

from controller import policy
from controller.service.read_model import ReadModel
from drivers import Make, MiningState

__all__ = ["OTHER_LOAD_LEGEND", "GpuState", "gpu_state", "summary"]

OTHER_LOAD_LEGEND = (
    "other load = the meter less the devices as the plan counts them: cooling, offices"
    " (40 kW on the example site); an estimate, 0 until the meter and a plan agree"
)

# A node drawing less than this share of its full power limit has no real work on it.
_IDLE_SHARE = 0.25
# Below this share of its range's top, a node's limit was lowered: it is capped.
_CAPPED_SHARE = 0.98


class GpuState(enum.StrEnum):
    SERVING = "serving"  # work running at its full power limit
    CAPPED = "capped"  # power limit lowered by the plan (or by hand)
    DRAINED = "drained"  # the plan drains it: no new jobs
    IDLE = "idle"  # powered, reachable, no work drawing power
    FAULT = "fault"
    UNKNOWN = "unknown"


def gpu_state(device: policy.FleetDevice, target: policy.DeviceTarget | None) -> GpuState:
    if device.state in {MiningState.FAULT, MiningState.UNKNOWN}:
        return GpuState(device.state.value)
    if target is not None and target.action is policy.Action.DRAIN:
        return GpuState.DRAINED
    if device.schedulable is False:
        return GpuState.DRAINED
    top = (device.profile.gpu_power_limit_range_w or (0.0, 0.0))[1]
    limit = device.gpu_power_limit_w
    if top and limit is not None and limit < _CAPPED_SHARE * top:
        return GpuState.CAPPED
    if top and device.power_w is not None and device.power_w < _IDLE_SHARE * top:
        return GpuState.IDLE
    return GpuState.SERVING


def _states_by_make(read: ReadModel) -> list[str]:
    counts: dict[str, Counter[str]] = {}
    view = read.plan_view()
    gpus: dict[str, str] = {}
    if view is not None:
        for index, device in enumerate(view.plan.fleet.devices):
            if device.profile.is_gpu:
                gpus[device.device_id] = gpu_state(device, view.plan.target_at(index)).value
    for record in read.records():
        device_id = record.identity.device_id
        if record.identity.make is Make.GPU:
            state = gpus.get(device_id, GpuState.UNKNOWN.value)
        else:
            state = record.telemetry.mining_state.value if record.telemetry else "unknown"
        counts.setdefault(record.identity.make.value, Counter())[state] += 1
    return [
        f"  {make:<10} " + ", ".join(f"{state} {n}" for state, n in sorted(states.items()))
        for make, states in sorted(counts.items())
    ]


def summary(read: ReadModel, listen: str, story: list[str], tty: bool, token: str | None) -> str:
    status: dict[str, Any] = read.status(read.now())
    stats = read.poll_stats()
    power = status["site_power"]
    plan = status["plan"]
    commands = ", ".join(f"{k} {n}" for k, n in sorted(status["commands"].items())) or "none yet"
    # The plan's limit is the devices' budget; the site's is that plus the other load.
    limit = plan["limit_w"] + plan["other_load_w"] if plan and plan["limit_w"] else None
    lines = [
        f"hashpivot demo: site {status['site']}, {status['devices']} devices, "
        f"sweep {stats.sweeps} ({stats.last_sweep_s:.2f} s)",
        f"  page     http://{listen}/   metrics http://{listen}/metrics   "
        f"API http://{listen}/api/v1/status",
    ]
    if token:
        lines.append(f"  token    export HASHPIVOT_API_TOKEN={token}   (writes need it)")
    lines += [
        *_states_by_make(read),
        f"  hashrate {status['hashrate_hs'] / 1e15:8.3f} PH/s",
        f"  power    {power['watts'] / 1e3:8.1f} kW by {power['source']}"
        + (f", site limit {limit / 1e3:.1f} kW" if limit else "")
        + f", other load {power['other_load_w'] / 1e3:.1f} kW",
        f"           ({OTHER_LOAD_LEGEND})",
        f"  events   {', '.join(status['events_active']) or 'none'}; "
        f"stuck {len(status['stuck'])}; commands {commands}",
    ]
    if plan:
        lines += [f"  plan     {note}" for note in plan["notes"][:3]]
    lines += [f"  story    {line}" for line in story[-4:]]
    lines.append("  Ctrl-C stops the controller and the simulator.")
    text = "\n".join(lines)
    return f"\x1b[H\x1b[2J{text}" if tty else text
