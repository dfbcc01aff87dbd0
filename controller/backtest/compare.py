"""The hardware-in-the-loop check, as the backtest sees it: the fast mode's result beside
the one measured under the real controller, figure by figure.

The replay itself runs the composition root against a simulated site, which this
package may not import (docs/architecture.md): ``controller.hil`` implements
:class:`HilRunner` and the command line hands it in.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from controller.backtest.economics import StrategyResult
from controller.backtest.inputs import Inputs
from controller.backtest.programs import ProgramEvent
from controller.backtest.series import iso
from controller.backtest.site import BacktestSite

__all__ = [
    "AGREE_WITHIN",
    "Figure",
    "HilReplay",
    "HilRunner",
    "comparison",
    "comparison_dict",
    "comparison_lines",
]

AGREE_WITHIN = 0.05  # the bar: energy and $ within 5% of the fast mode


@dataclass(slots=True, kw_only=True)
class HilReplay:
    """What the replay measured, and what the report should say about how it ran."""

    result: StrategyResult
    speed: float
    wall_s: float
    devices: int
    notes: list[str] = field(default_factory=list)


class HilRunner(Protocol):
    def __call__(
        self,
        site: BacktestSite,
        inputs: Inputs,
        *,
        site_path: Path,
        config_path: Path | None,
        speed: float,
        progress: Callable[[int], None] | None,
    ) -> HilReplay: ...


@dataclass(frozen=True, slots=True, kw_only=True)
class Figure:
    name: str
    fast: float
    hil: float
    checked: bool  # one of the figures the agreement is judged on

    @property
    def difference(self) -> float:
        """(HIL - fast) / |fast|; 0 when both are 0."""
        if self.fast == 0:
            return 0.0 if self.hil == 0 else math.copysign(math.inf, self.hil)
        return (self.hil - self.fast) / abs(self.fast)


def comparison(fast: StrategyResult, hil: StrategyResult) -> list[Figure]:
    """Energy, total $ and each $ component; the first two are the ones checked."""
    ft, ht = fast.totals, hil.totals
    figures = [
        Figure(name="energy MWh", fast=fast.energy_mwh, hil=hil.energy_mwh, checked=True),
        Figure(name="total $", fast=ft["total"], hil=ht["total"], checked=True),
    ]
    parts = {
        "hashing $": ("hashing",),
        "AI $": ("ai", "ai_interruptions"),
        "energy $": ("energy_index", "energy_block"),
        "credits $": ("power_credits",),
        "DR net $": ("dr_payments", "dr_penalties"),
        "4CP $": ("transmission_4cp",),
    }
    for name, keys in parts.items():
        a, b = sum(ft[k] for k in keys), sum(ht[k] for k in keys)
        if a or b:
            figures.append(Figure(name=name, fast=a, hil=b, checked=False))
    return figures


def _pct(value: float) -> str:
    return f"{100 * value:+.1f}%" if math.isfinite(value) else "-"


def comparison_lines(
    fast: StrategyResult,
    measured: HilReplay,
    inputs: Inputs,
    left_out: tuple[ProgramEvent, ...] = (),
) -> list[str]:
    """The side-by-side figures with their relative difference, the verdict, the notes."""
    hil = measured.result
    figures = comparison(fast, hil)
    rows = [("figure", "fast", "HIL", "HIL - fast")]
    for f in figures:
        digits = 4 if f.name.endswith("MWh") else 0
        rows.append((f.name, f"{f.fast:,.{digits}f}", f"{f.hil:,.{digits}f}", _pct(f.difference)))
    met = (f"{fast.events_met}/{len(fast.events)}", f"{hil.events_met}/{len(hil.events)}")
    if fast.events:
        rows.append(("events met", *met, ""))
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    hours = (inputs.end - inputs.start) / 3600
    lines = [
        f"HIL check: {iso(inputs.start)}..{iso(inputs.end)} ({hours:g} h), {measured.devices} "
        f"simulated devices under the real controller at {measured.speed:g}x, "
        f"{measured.wall_s:.0f} s"
    ]
    for r in rows:
        lines.append(
            "  "
            + "  ".join(
                c.ljust(w) if i == 0 else c.rjust(w)
                for i, (c, w) in enumerate(zip(r, widths, strict=True))
            )
        )
    worst = max(abs(f.difference) for f in figures if f.checked)
    agree = worst <= AGREE_WITHIN
    lines.append(
        f"  fast mode and HIL {'agree' if agree else 'DISAGREE'} on energy and total $ within "
        f"{100 * AGREE_WITHIN:g}% (largest difference {100 * worst:.1f}%)"
    )
    for e in left_out:
        lines.append(f"  note: event {e.event_id} straddles the window's edge: left out of both")
    lines += [f"  note: {n}" for n in measured.notes]
    return lines


def comparison_dict(fast: StrategyResult, measured: HilReplay) -> dict[str, Any]:
    """For result.json: each figure, the speed and the notes."""
    return {
        "speed": measured.speed,
        "wall_s": round(measured.wall_s, 1),
        "devices": measured.devices,
        "figures": {
            f.name: {
                "fast": round(f.fast, 4),
                "hil": round(f.hil, 4),
                "difference": round(f.difference, 4) if math.isfinite(f.difference) else None,
                "checked": f.checked,
            }
            for f in comparison(fast, measured.result)
        },
        "notes": measured.notes,
    }
