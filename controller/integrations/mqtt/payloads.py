"""JSON payloads in base units, keyed by the names of the matching Prometheus metrics."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from importlib import metadata
from typing import Any

from controller.integrations.mqtt.topics import EventPhase
from controller.service.read_model import PlanSummary, SiteStatus, TelemetryRow
from controller.state.control import EventRecord

__all__ = [
    "DEVICE_COLUMNS",
    "dumps",
    "event_payload",
    "plan_payload",
    "signals_payload",
    "status_payload",
    "telemetry_payloads",
    "version",
]

# Telemetry is columnar: ``columns`` names each position of every row once, so
# 10,000 devices do not repeat the long metric names 10,000 times.
DEVICE_COLUMNS = (
    "device",
    "make",
    "model",
    "hashpivot_device_health",
    "hashpivot_device_mining_state",
    "hashpivot_device_hashrate_hashes_per_second",
    "hashpivot_device_power_watts",
    "hashpivot_device_power_limit_watts",
    "hashpivot_device_temperature_celsius",
    "hashpivot_device_uptime_seconds",
)


def dumps(data: Mapping[str, Any]) -> bytes:
    return json.dumps(data, separators=(",", ":"), allow_nan=False).encode()


def version() -> str:
    try:
        return metadata.version("hashpivot")
    except metadata.PackageNotFoundError:
        return "unknown"


def status_payload(site: str, status: SiteStatus, now: float, ver: str) -> bytes:
    return dumps(
        {
            "site": site,
            "at": round(now, 3),
            "version": ver,
            "hashpivot_site_metered_power_watts": round(status.metered_w, 1),
            "metered_source": status.metered_source,
            "hashpivot_site_commanded_power_watts": _round(status.commanded_w),
            "hashpivot_site_limit_watts": _round(status.limit_w),
            "hashpivot_site_hashrate_hashes_per_second": status.hashrate_hs,
            "hashpivot_devices": dict(status.devices_by_health),
            "hashpivot_device_mining_state": dict(status.devices_by_state),
            "hashpivot_events_active": list(status.events_active),
            "hashpivot_control_paused": status.paused,
            "paused_reason": status.paused_reason,
        }
    )


def plan_payload(site: str, plan: PlanSummary) -> bytes:
    return dumps(
        {
            "site": site,
            "seq": plan.seq,
            "at": round(plan.at, 3),
            "hashpivot_site_commanded_power_watts": round(plan.expected_site_w, 1),
            "hashpivot_site_limit_watts": _round(plan.limit_w),
            "other_load_watts": round(plan.other_load_w, 1),
            "trigger": plan.trigger,
            "reasons": list(plan.notes),
        }
    )


def event_payload(
    site: str,
    phase: EventPhase,
    event: EventRecord,
    now: float,
    report: Mapping[str, Any] | None = None,
) -> bytes:
    data: dict[str, Any] = {
        "site": site,
        "phase": phase.value,
        "at": round(now, 3),
        "event": event.as_json(),
        "hashpivot_event_level_watts": None if event.level_mw is None else event.level_mw * 1e6,
    }
    if report is not None:
        data["report"] = dict(report)
    return json.dumps(data, separators=(",", ":"), default=str).encode()


def signals_payload(site: str, ages: Mapping[str, float | None], now: float) -> bytes:
    return dumps(
        {
            "site": site,
            "at": round(now, 3),
            "ages_seconds": {name: _round(age) for name, age in sorted(ages.items())},
        }
    )


def telemetry_payloads(
    site: str, rows: Iterable[TelemetryRow], now: float, chunk: int
) -> Iterator[bytes]:
    """One message per ``chunk`` devices; each one stands alone (site, time, columns)."""
    columns = json.dumps(DEVICE_COLUMNS, separators=(",", ":"))
    head = f'{{"site":{json.dumps(site)},"at":{round(now, 3)},"columns":{columns}'
    batch: list[list[Any]] = []
    part = 0
    for row in rows:
        batch.append(
            [
                row.device,
                row.make,
                row.model,
                row.health,
                row.state,
                row.hashrate_hs,
                row.power_w,
                row.power_limit_w,
                row.temperature_c,
                row.uptime_s,
            ]
        )
        if len(batch) >= chunk:
            yield _chunk(head, part, batch)
            batch, part = [], part + 1
    if batch or part == 0:
        yield _chunk(head, part, batch)


def _chunk(head: str, part: int, rows: list[list[Any]]) -> bytes:
    body = json.dumps(rows, separators=(",", ":"), allow_nan=False)
    return f'{head},"part":{part},"rows":{body}}}'.encode()


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)
