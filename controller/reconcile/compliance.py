"""The compliance report for one grid event, built from the journal alone.

Requested level and deadline; the baseline (the last meter sample before the
event); time to 50, 90 and 100% of the requested drop by the meter (or by the
estimate where the meter was unavailable, and it says so); the load sustained while
the event ran; the devices that failed, those already failed when it arrived
included, and what was shed in their place; and any restart during the event.

The verdict (``compliance``) never rests on estimates alone: "met" needs a meter
sample at the level by the deadline; reached only on the estimate it is "met
(estimated)" until a meter sample confirms it; with nothing measured, "unconfirmed".
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from typing import Any

from controller.journal.kinds import JournalKind
from controller.journal.store import Journal
from controller.state.control import EventRecord

__all__ = ["compliance_report", "report_text"]

_OWN_KINDS = [JournalKind.EVENT_BASELINE, JournalKind.EVENT_FAILED_AT_START]
_KINDS = [
    "event.",
    JournalKind.METER_SAMPLE,
    JournalKind.COMMAND_RESULT,
    JournalKind.DEVICE_STUCK,
    JournalKind.DEVICE_HEALTH,
    JournalKind.PLAN,
    JournalKind.DAEMON_STARTED,
]


async def compliance_report(journal: Journal, event: EventRecord) -> dict[str, Any]:
    now = journal.clock.time()  # the controller's clock, which stamped the rows read
    end = min(event.end, event.cancelled_at or event.end, max(now, event.created_at))
    entries = await journal.entries(_KINDS, since_at=event.created_at - 1.0)
    window = [e for e in entries if event.created_at - 1.0 <= e.at <= end + 1.0]
    # The baseline sample may be older than the event itself: found by the event's id.
    own = await journal.entries(_OWN_KINDS, subject=event.event_id)
    baseline = next((e for e in own if e.kind == JournalKind.EVENT_BASELINE), None)
    milestones: dict[str, dict[str, Any]] = {}
    on_meter = None
    for e in window:
        if e.kind != JournalKind.EVENT_MILESTONE or e.subject != event.event_id:
            continue
        milestones.setdefault(
            str(e.data["pct"]),
            {
                "at": e.at,
                "elapsed_s": e.data["elapsed_s"],
                "watts": e.data["watts"],
                "source": e.data["source"],
            },
        )
        if e.data["pct"] == 100 and e.data["source"] == "meter" and on_meter is None:
            on_meter = e.at
    level_w = event.level_mw * 1e6 if event.level_mw is not None else None
    full = milestones.get("100")
    # Held from when the level was first met, or from the deadline if it was not met by then.
    held_from = event.deadline or event.start
    if full is not None:
        held_from = min(held_from, float(full["at"]))
    samples = [
        e
        for e in window
        if e.kind == JournalKind.METER_SAMPLE
        and event.event_id in e.data.get("events", ())
        and e.at >= held_from
    ]
    watts = [float(e.data["watts"]) for e in samples]
    sources = Counter(str(e.data["source"]) for e in samples)
    deadline = event.deadline or event.start
    report: dict[str, Any] = {
        "event": event.as_json(),
        "requested": {
            "level_w": level_w,
            "deadline": event.deadline,
            "baseline_w": baseline.data["watts"] if baseline else None,
            "baseline_source": baseline.data["source"] if baseline else None,
            "drop_w": (baseline.data["watts"] - level_w) if baseline and level_w else None,
        },
        "milestones": milestones,
        "time_to_50_s": _elapsed(milestones, "50"),
        "time_to_90_s": _elapsed(milestones, "90"),
        "time_to_100_s": _elapsed(milestones, "100"),
        "compliance": _verdict(full, on_meter, deadline, now, sources),
        "met_on_meter_at": on_meter,
        "sustained": {
            "from": held_from,
            "to": end,
            "samples": len(watts),
            "mean_w": round(sum(watts) / len(watts), 1) if watts else None,
            "max_w": max(watts) if watts else None,
            "min_w": min(watts) if watts else None,
            "share_at_or_below_level": (
                round(sum(1 for w in watts if w <= level_w) / len(watts), 4)
                if watts and level_w is not None
                else None
            ),
            "sources": dict(sources),
        },
        "confirmed_by": _confirmed_by(sources, milestones),
        "failed_devices": _failed(own, window),
        "compensation": _compensation(window),
        "commands": dict(
            Counter(str(e.data["result"]) for e in window if e.kind == JournalKind.COMMAND_RESULT)
        ),
        "restarts": [e.data.get("run") for e in window if e.kind == JournalKind.DAEMON_STARTED],
    }
    # True only on the meter's word; None while pending or resting on an estimate.
    verdict = report["compliance"]
    report["met_by_deadline"] = (
        True if verdict == "met" else False if verdict.startswith("not met") else None
    )
    return report


def _verdict(
    full: dict[str, Any] | None,
    on_meter: float | None,
    deadline: float,
    now: float,
    sources: Counter[str],
) -> str:
    if on_meter is not None and on_meter <= deadline + 1e-6:
        return "met"
    if full is not None and float(full["at"]) <= deadline + 1e-6:
        return "met (estimated)"  # the meter has not confirmed it (yet)
    if now < deadline:
        return "pending"
    if full is None and not sources and on_meter is None:
        return "unconfirmed"  # nothing measured the site after the deadline
    if sources.get("meter", 0) == 0 and full is None:
        return "not met (estimated)"
    return "not met"


def _elapsed(milestones: dict[str, dict[str, Any]], pct: str) -> float | None:
    found = milestones.get(pct)
    return None if found is None else float(found["elapsed_s"])


def _confirmed_by(sources: Counter[str], milestones: dict[str, dict[str, Any]]) -> str:
    used = set(sources) | {str(m["source"]) for m in milestones.values()}
    if used == {"meter"}:
        return "meter"
    if "meter" in used:
        return "meter, estimated while the meter was unavailable"
    if used:
        return "estimated: device telemetry plus the last known other load (no meter reading)"
    return "not yet measured"


def _failed(own: list[Any], window: list[Any]) -> list[dict[str, Any]]:
    failed: dict[str, dict[str, Any]] = {}
    for e in own:
        if e.kind == JournalKind.EVENT_FAILED_AT_START:
            for device in e.data.get("devices", ()):
                failed.setdefault(
                    device["device"],
                    {
                        "device": device["device"],
                        "at": e.at,
                        "reason": device["reason"],
                        "before_event": True,
                    },
                )
    for e in window:
        if e.kind == JournalKind.DEVICE_HEALTH and e.data["health"] == "unreachable":
            failed.setdefault(
                e.subject,
                {"device": e.subject, "at": e.at, "reason": f"unreachable: {e.data.get('error')}"},
            )
        if e.kind == JournalKind.DEVICE_STUCK:
            failed.setdefault(
                e.subject, {"device": e.subject, "at": e.at, "reason": e.data["reason"]}
            )
        elif (
            e.kind == JournalKind.COMMAND_RESULT
            and e.data.get("final")
            and e.data["result"]
            not in {
                "applied",
                "acknowledged",
            }
        ):
            failed.setdefault(
                e.subject,
                {
                    "device": e.subject,
                    "at": e.at,
                    "reason": f"{e.data['command']}: {e.data['code']}",
                },
            )
    return sorted(failed.values(), key=lambda f: f["at"])


def _compensation(window: list[Any]) -> dict[str, Any]:
    covered: set[str] = set()
    shed: set[str] = set()
    for e in window:
        if e.kind == JournalKind.PLAN and "compensation" in e.data:
            covered.update(e.data["compensation"]["for"])
            shed.update(e.data["compensation"]["shed"])
    return {"for": sorted(covered), "shed_in_their_place": sorted(shed - covered)}


def _clock(at: float | None) -> str:
    if at is None:
        return "-"
    return datetime.fromtimestamp(at, tz=UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def report_text(report: dict[str, Any]) -> str:
    event, req, sus = report["event"], report["requested"], report["sustained"]

    def kw(w: float | None) -> str:
        return "-" if w is None else f"{w / 1e3:,.1f} kW"

    def secs(s: float | None) -> str:
        return "not reached" if s is None else f"{s:.1f} s"

    lines = [
        f"Compliance report: {event['kind']} event {event['event_id']} (source {event['source']})",
        f"  requested level   {kw(req['level_w'])} by {_clock(req['deadline'])}",
        f"  window            {_clock(event['start'])} to {_clock(sus['to'])}"
        + (f" (cancelled {_clock(event['cancelled_at'])})" if event["cancelled_at"] else ""),
        f"  baseline          {kw(req['baseline_w'])} ({req['baseline_source'] or '-'});"
        f" drop requested {kw(req['drop_w'])}",
        f"  time to 50%       {secs(report['time_to_50_s'])}",
        f"  time to 90%       {secs(report['time_to_90_s'])}",
        f"  time to 100%      {secs(report['time_to_100_s'])}",
        f"  met by deadline   {report['compliance']}",
        f"  sustained load    mean {kw(sus['mean_w'])}, max {kw(sus['max_w'])} over "
        f"{sus['samples']} samples; at or below level {sus['share_at_or_below_level']}",
        f"  measured by       {report['confirmed_by']}",
        f"  commands          {report['commands'] or 'none'}",
    ]
    failed = report["failed_devices"]
    lines.append(f"  failed devices    {len(failed)}")
    lines.extend(f"    {f['device']}: {f['reason']}" for f in failed[:500])
    comp = report["compensation"]
    if comp["for"]:
        lines.append(
            f"  compensation      {len(comp['shed_in_their_place'])} device(s) shed in place of "
            f"{len(comp['for'])}: {', '.join(comp['shed_in_their_place'][:20])}"
        )
    if report["restarts"]:
        lines.append(f"  daemon restarts   runs {report['restarts']} started during the event")
    return "\n".join(lines) + "\n"
