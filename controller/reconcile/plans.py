"""The policy's inputs from configuration and control state, and the plan as people see it."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from controller import policy
from controller.config.sections import EconomicsConfig, GridConfig
from controller.reconcile.commands import command_name
from controller.reconcile.observe import Observation
from controller.state.control import ControlState

__all__ = ["PlanView", "economics_now", "grid_binds", "grid_now", "plan_json", "plan_summary"]


@dataclass(frozen=True, slots=True, kw_only=True)
class PlanView:
    seq: int
    at: float
    reason: str  # what made the loop plan: interval, event, override, ...
    plan: policy.Plan
    observation: Observation
    commands: tuple[policy.DeviceCommand, ...]
    notes: tuple[str, ...]  # the policy's notes and the controller's own
    paused: bool
    dry_run: bool
    grid_binding: bool


def economics_now(config: EconomicsConfig, state: ControlState, now: float) -> policy.Economics:
    """Values from the file count as current; API updates keep their own time and source."""
    price = state.price
    forecast = tuple(
        policy.PricePoint(start, usd, end) for start, end, usd in state.forecast if end > now
    )
    firm = bool(forecast)  # the signal hub feeds day-ahead (cleared) curves only
    if price is not None and price.power_price_usd_per_mwh is not None:
        power = policy.PowerPrice(
            usd_per_mwh=price.power_price_usd_per_mwh,
            as_of=price.as_of,
            source=price.source,
            forecast=forecast,
            forecast_firm=firm,
        )
    else:
        power = policy.PowerPrice(
            usd_per_mwh=config.power_price_usd_per_mwh,
            as_of=now,
            source="config",
            forecast=forecast,
            forecast_firm=firm,
        )
    update = state.hashprice
    if update is not None and update.hashprice_usd_per_ph_day is not None:
        hashprice = policy.Hashprice(update.hashprice_usd_per_ph_day, update.as_of, update.source)
    else:
        hashprice = policy.Hashprice(config.hashprice_usd_per_ph_day, now, "config")
    ai = policy.AiValue(
        contracted_usd_per_gpu_hour=config.contracted_usd_per_gpu_hour,
        interruptible_usd_per_gpu_hour=config.interruptible_usd_per_gpu_hour,
        idle_usd_per_gpu_hour=config.idle_usd_per_gpu_hour,
        as_of=now,
        source="config",
    )
    stale = tuple(why for _, why in sorted(state.stale_signals.items()))
    return policy.Economics(hashprice=hashprice, power_price=power, ai_value=ai, stale_inputs=stale)


def grid_now(
    config: GridConfig, state: ControlState, now: float, other_load_w: float = 0.0
) -> policy.Grid:
    return policy.Grid(
        interconnect_cap_mw=config.interconnect_cap_mw,
        as_of=now,
        source="config",
        events=state.policy_events(now),
        ramp_up_mw_per_min=config.ramp_up_mw_per_min,
        ramp_down_mw_per_min=config.ramp_down_mw_per_min,
        relay_cleared_at=state.relay_cleared_at,
        other_load_w=other_load_w,
    )


def grid_binds(plan: policy.Plan, config: GridConfig, reserve_mw: float) -> bool:
    """Whether an event or a relay trip, not the interconnect cap, limits this plan.

    The plan's limit already leaves room for the site's other load (cooling, offices):
    that load alone is no grid event, and sheds it causes are not sent as grid-urgent.
    """
    cap_w = (config.interconnect_cap_mw - reserve_mw) * 1e6
    return plan.relay_latched or plan.limit_w + plan.other_load_w < cap_w - 1.0


def plan_summary(view: PlanView, *, reasons: int = 20) -> dict[str, Any]:
    """What the journal keeps of a plan: totals, notes, the commonest reasons, command counts."""
    plan = view.plan
    by_command = Counter(command_name(c.command).split(":")[0] for c in view.commands)
    data: dict[str, Any] = {
        "reason": view.reason,
        "limit_w": round(plan.limit_w, 1) if plan.limit_w != float("inf") else None,
        "expected_site_w": round(plan.expected_site_w, 1),
        "observed_site_w": round(plan.observed_site_w, 1),
        "stale": plan.stale,
        "relay_latched": plan.relay_latched,
        "infeasible": plan.infeasible,
        "grid_binding": view.grid_binding,
        "notes": list(view.notes),
        "reasons": [[r, n] for r, n in plan.reason_counts().most_common(reasons)],
        "commands": dict(sorted(by_command.items())),
        "paused": view.paused,
        "dry_run": view.dry_run,
    }
    comp = plan.compensation
    if comp:
        # The engine's own record of which sheds stand in for which stuck devices.
        data["compensation"] = {
            "for": list(comp.stuck[:200]),
            "shed": list(comp.shed[:200]),
            "watts": round(comp.watts, 1),
        }
    return data


def plan_json(view: PlanView, *, device: str | None = None, limit: int = 500) -> dict[str, Any]:
    """The plan for the API: summary, then targets with reasons and the commands."""
    data = plan_summary(view)
    data.update({"seq": view.seq, "at": view.at})
    plan = view.plan
    targets = []
    for index in range(len(plan)):
        target = plan.target_at(index)
        if device is not None and target.device_id != device:
            continue
        targets.append(
            {
                "device": target.device_id,
                "action": target.action.value,
                "power_w": round(target.power_w, 1),
                "reason": target.reason,
                "delay_s": target.delay_s,
            }
        )
        if len(targets) >= limit:
            break
    data["targets"] = targets
    data["command_list"] = [
        {"device": c.device_id, "command": command_name(c.command), "delay_s": c.delay_s}
        for c in view.commands
        if device is None or c.device_id == device
    ][:limit]
    return data
