"""The results in words and numbers: the terminal table and ``result.json``."""

from __future__ import annotations

import json
import math
from pathlib import Path
from statistics import fmean
from typing import Any

from controller.backtest.economics import COMPONENTS, StrategyResult
from controller.backtest.run import BacktestRun
from controller.backtest.series import iso

__all__ = ["result_dict", "summary_table", "verdict", "write_json"]


def _usd(value: float) -> str:
    return f"{value:,.0f}" if math.isfinite(value) else "-"


def _cycles(result: StrategyResult) -> tuple[int, float]:
    return (max(result.wakes, default=0), fmean(result.wakes) if result.wakes else 0.0)


def summary_table(run: BacktestRun, *, verdict_line: bool = True) -> str:
    """One row per strategy: $ by component, events met, energy and cycles; then the
    verdict (``verdict_line``)."""
    head = (
        "strategy",
        "total $",
        "hashing",
        "AI",
        "AI interr.",
        "energy",
        "credits",
        "DR net",
        "4CP",
        "events",
        "MWh",
        "cycles max/mean",
    )
    rows = [head]
    for r in run.results:
        t = r.totals
        instructed = r.events_met + r.events_missed
        events = f"{r.events_met}/{instructed} met" if instructed else "-"
        cmax, cmean = _cycles(r)
        rows.append(
            (
                r.label,
                _usd(t["total"]),
                _usd(t["hashing"]),
                _usd(t["ai"]),
                _usd(t["ai_interruptions"]),
                _usd(t["energy_index"] + t["energy_block"]),
                _usd(t["power_credits"]),
                _usd(t["dr_payments"] + t["dr_penalties"]),
                _usd(t["transmission_4cp"]),
                events,
                f"{r.energy_mwh:,.1f}",
                "-" if r.name == "upper_bound" else f"{cmax}/{cmean:.1f}",
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(head))]
    lines = []
    for n, row in enumerate(rows):
        cells = [c.ljust(widths[i]) if i == 0 else c.rjust(widths[i]) for i, c in enumerate(row)]
        lines.append("  ".join(cells))
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    inputs, site = run.inputs, run.site
    lines.insert(
        0,
        (
            f"site {site.name}: {len(site.device_ids)} devices, other load "
            f"{site.other_load_w / 1e3:.0f} kW, cap {site.cap_mw:g} MW | prices "
            f"{inputs.prices.name} {iso(inputs.start)}..{iso(inputs.end)} ({inputs.steps} steps) | "
            f"contract {inputs.contract.kind} | strike ${run.strike_usd_per_mwh:,.0f}/MWh"
        ),
    )
    if verdict_line:
        lines.append(verdict(run))
    return "\n".join(lines)


def verdict(run: BacktestRun) -> str:
    """Whether hashpivot beat the other strategies with every event met, in one line."""
    ours = run.result("hashpivot")
    if ours is None:
        return "hashpivot's policy was not among the strategies run"
    total = ours.totals["total"]
    behind = [
        r.label
        for r in run.results
        if r.name not in {"hashpivot", "upper_bound"} and r.totals["total"] > total
    ]
    missed = [e.event.event_id for e in ours.events if not e.met]
    bound = run.result("upper_bound")
    share = ""
    if bound is not None and bound.totals["total"] > 0:
        share = f"; {100 * total / bound.totals['total']:.0f}% of the upper bound"
    if not behind and not missed:
        return f"hashpivot beat every other strategy with every event met{share}"
    parts = []
    if behind:
        parts.append(f"earned less than {', '.join(behind)}")
    if missed:
        parts.append(f"missed {', '.join(missed)}")
    return f"hashpivot {' and '.join(parts)}{share}"


def result_dict(run: BacktestRun) -> dict[str, Any]:
    site, inputs = run.site, run.inputs
    out: dict[str, Any] = {
        "site": {
            "name": site.name,
            "source": site.source,
            "devices": len(site.device_ids),
            "kinds": site.counts(),
            "other_load_kw": site.other_load_w / 1e3,
            "interconnect_cap_mw": site.cap_mw,
            "plan_interval_s": site.settings.plan_interval_s,
        },
        "inputs": {
            "prices": inputs.prices.source,
            "zone": inputs.prices.name,
            "start": iso(inputs.start),
            "end": iso(inputs.end),
            "steps": inputs.steps,
            "step_s": inputs.step_s,
            "hashprice": inputs.hashprice.source,
            "hashprice_first_usd_per_ph_day": inputs.hashprice.values[0],
            "contract": {
                "kind": inputs.contract.kind,
                "block_mw": inputs.contract.block_mw,
                "block_usd_per_mwh": inputs.contract.block_usd_per_mwh,
            },
            "events": [e.event_id for e in inputs.events],
        },
        "strike_usd_per_mwh": run.strike_usd_per_mwh,
        "wall_s": round(run.wall_s, 3),
        "verdict": verdict(run),
        "strategies": {},
    }
    for r in run.results:
        cmax, cmean = _cycles(r)
        out["strategies"][r.name] = {
            "label": r.label,
            "usd": {c: round(r.totals[c], 2) for c in (*COMPONENTS, "total")},
            "energy_mwh": round(r.energy_mwh, 4),
            "energy_mwh_by_kind": {k: round(v, 4) for k, v in r.kind_mwh.items()},
            "events": [
                {
                    "id": e.event.event_id,
                    "kind": e.event.kind.value,
                    "met": e.met,
                    "level_mw": e.event.level_mw,
                    "worst_mw": None if math.isnan(e.worst_mw) else round(e.worst_mw, 4),
                    "payment_usd": round(e.payment_usd, 2),
                    "penalty_usd": round(e.penalty_usd, 2),
                    "start": iso(e.event.start),
                    "due": iso(e.event.due),
                    "end": iso(e.event.end),
                }
                for e in r.events
            ],
            "cycles": {
                "max": cmax,
                "mean": round(cmean, 3),
                "per_device": dict(zip(r.device_ids, r.wakes, strict=False)),
            },
            "notes": r.notes,
        }
    return out


def write_json(run: BacktestRun, path: Path, *, extra: dict[str, Any] | None = None) -> None:
    """``result.json``: :func:`result_dict`, with ``extra`` keys (the HIL check's) added."""
    data = {**result_dict(run), **(extra or {})}
    path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
