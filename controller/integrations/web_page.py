"""The operator page's data: one JSON document built from the read model.

Everything the page shows comes from :func:`page_data`; the browser only lays it
out. Ages are computed here against ``now`` so the page needs no clock of its own.
Compliance reports read the journal, so they are cached: a finished event's report
never changes, a running one's is rebuilt at most every ``report_ttl_s``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import asdict
from typing import Any

from controller.service.read_model import DeviceRow, PlanRow, ReadModel, SignalRow
from controller.state.control import EventRecord

__all__ = ["ReportCache", "page_data"]

# Units an operator must look at: they will not do what the plan asks.
_ATTENTION_HEALTH = {"unreachable", "degraded"}
_EVENTS_SHOWN = 10
_PROBLEMS_SHOWN = 200


class ReportCache:
    def __init__(self, *, ttl_s: float = 5.0) -> None:
        self.ttl_s = ttl_s
        self._reports: dict[str, tuple[float, tuple[Any, ...], Mapping[str, Any]]] = {}

    async def get(self, model: ReadModel, event: EventRecord, now: float) -> Mapping[str, Any]:
        key = (event.updated_at, event.cancelled_at, event.end)
        found = self._reports.get(event.event_id)
        if found is not None and found[1] == key:
            built_at, _, report = found
            # Over (and reported once over): final. Running: fresh enough.
            if event.is_over(built_at) or now - built_at < self.ttl_s:
                return report
        report = await model.report(event)
        self._reports[event.event_id] = (now, key, report)
        return report

    def keep(self, event_ids: set[str]) -> None:
        for gone in set(self._reports) - event_ids:
            del self._reports[gone]


def _counts(rows: Sequence[DeviceRow], *keys: str) -> list[dict[str, Any]]:
    counted = Counter(tuple(getattr(r, k) or "-" for k in keys) for r in rows)
    return [
        {**dict(zip(keys, values, strict=True)), "count": n}
        for values, n in sorted(counted.items())
    ]


def _devices(rows: Sequence[DeviceRow]) -> dict[str, Any]:
    problems = [
        {
            "device": r.device,
            "make": r.make,
            "model": r.model,
            "rack": r.rack,
            "health": r.health,
            "state": r.state,
            "why": "; ".join(
                w
                for w in (
                    f"stuck: {r.stuck}" if r.stuck else "",
                    f"refuses {r.refusing}" if r.refusing else "",
                    f"{r.health}: {r.last_error or '-'}" if r.health in _ATTENTION_HEALTH else "",
                )
                if w
            ),
        }
        for r in rows
        if r.stuck or r.refusing or r.health in _ATTENTION_HEALTH
    ]
    racks: dict[str, dict[str, Any]] = {}
    for r in rows:
        if r.rack is None:
            continue
        rack = racks.setdefault(
            r.rack,
            {"rack": r.rack, "devices": 0, "power_w": 0.0, "by_state": Counter(), "attention": 0},
        )
        rack["devices"] += 1
        rack["power_w"] += r.power_w or 0.0
        rack["by_state"][r.state] += 1
        rack["attention"] += bool(r.stuck or r.refusing or r.health in _ATTENTION_HEALTH)
    return {
        "total": len(rows),
        "power_w": round(sum(r.power_w or 0.0 for r in rows), 1),
        "by_model": _counts(rows, "make", "model"),
        "by_state": _counts(rows, "state"),
        "by_health": _counts(rows, "health"),
        "by_rack": [
            {**rack, "power_w": round(rack["power_w"], 1), "by_state": dict(rack["by_state"])}
            for _, rack in sorted(racks.items())
        ],
        "attention": problems[:_PROBLEMS_SHOWN],
        "attention_total": len(problems),
        "overrides": [{"device": r.device, "action": r.override} for r in rows if r.override],
    }


def _report_row(report: Mapping[str, Any]) -> dict[str, Any]:
    """The parts of a compliance report the page shows."""
    requested = report.get("requested", {})
    return {
        "baseline_w": requested.get("baseline_w"),
        "level_w": requested.get("level_w"),
        "time_to_50_s": report.get("time_to_50_s"),
        "time_to_90_s": report.get("time_to_90_s"),
        "time_to_100_s": report.get("time_to_100_s"),
        "met_by_deadline": report.get("met_by_deadline"),
        "compliance": report.get("compliance", "pending"),
        "confirmed_by": report.get("confirmed_by"),
        "failed_devices": len(report.get("failed_devices", ())),
        "compensation": report.get("compensation", {"for": [], "shed_in_their_place": []}),
        "commands": report.get("commands", {}),
    }


async def page_data(model: ReadModel, cache: ReportCache, now: float) -> dict[str, Any]:
    rows = model.devices(now)
    plan = model.plan()
    events = list(model.events())[-_EVENTS_SHOWN:]
    cache.keep({e.event_id for e in events})
    shown = []
    for event in reversed(events):
        report = await cache.get(model, event, now)
        shown.append(
            {
                **event.as_json(),
                "active": not event.is_over(now),
                "confirmed": model.event_confirmed(event.event_id),
                "report": _report_row(report),
            }
        )
    return {
        "site": model.site,
        "now": now,
        "control": asdict(model.control()),
        "devices": _devices(rows),
        "plan": None if plan is None else _plan(plan),
        "signals": [_signal(s, now) for s in model.signals(now)],
        "events": shown,
        "commands": dict(sorted(model.commands().items())),
    }


def _plan(plan: PlanRow) -> dict[str, Any]:
    groups = [
        {
            "action": g.action,
            "reason": g.reason,
            "count": len(g.devices),
            "devices": list(g.devices[:12]),
            "power_w": round(g.power_w, 1),
        }
        for g in plan.groups
    ]
    return {
        **asdict(plan),
        "groups": groups,
        "commands": dict(plan.commands),
        "notes": list(plan.notes),
    }


def _signal(signal: SignalRow, now: float) -> dict[str, Any]:
    age = None if signal.as_of is None else now - signal.as_of
    stale = age is not None and signal.max_age_s is not None and age > signal.max_age_s
    return {**asdict(signal), "age_s": None if age is None else round(age, 1), "stale": stale}
