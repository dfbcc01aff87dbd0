"""A short window of a backtest's inputs: what the hardware-in-the-loop check replays.

The window is whole settlement intervals. By default it holds the month's highest
price and, where one fits, an instructed event: the hours where the controller has
the most to do and the money moves fastest. Events that straddle the window's edges
are left out of it (both runs), since neither could settle them.
"""

from __future__ import annotations

from dataclasses import replace

from controller.backtest.errors import BacktestError
from controller.backtest.inputs import Inputs
from controller.backtest.programs import ProgramEvent
from controller.backtest.series import iso
from controller.policy import EventKind

__all__ = ["MAX_WINDOW_HOURS", "Window", "choose_window"]

MAX_WINDOW_HOURS = 24.0  # replayed in real time / speed: a day at speed 60 takes 24 minutes

Window = tuple[Inputs, tuple[ProgramEvent, ...]]  # the inputs cut to it, the events left out


def _start_for(inputs: Inputs, steps: int) -> float:
    """The window of ``steps`` intervals around the highest price, holding the most
    instructed events whole (then the earliest such window)."""
    values = inputs.prices.values
    peak = max(range(len(values)), key=lambda i: (values[i], -i))
    first = max(0, peak - steps + 1)
    last = min(peak, len(values) - steps)
    step_s = inputs.step_s

    def held(i: int) -> int:
        a, b = inputs.start + i * step_s, inputs.start + (i + steps) * step_s
        return sum(
            1 for e in inputs.events if e.kind is EventKind.INSTRUCTED and a <= e.start < e.end <= b
        )

    best = max(range(first, last + 1), key=lambda i: (held(i), -abs(i + steps // 2 - peak), -i))
    return inputs.start + best * step_s


def choose_window(inputs: Inputs, hours: float, start: float | None = None) -> Window:
    """``inputs`` cut to ``hours`` from ``start`` (default: around the highest price).

    BacktestError (field ``--hil`` or ``--hil-start``) for a window that is not whole
    intervals, is too long, or lies outside the prices.
    """
    step_s = inputs.step_s
    if not 0 < hours <= MAX_WINDOW_HOURS:
        raise BacktestError(
            f"HOURS must be above 0 and at most {MAX_WINDOW_HOURS:g}, not {hours:g}", field="--hil"
        )
    steps = hours * 3600 / step_s
    if abs(steps - round(steps)) > 1e-9:
        raise BacktestError(
            f"HOURS must be whole {step_s / 60:g}-minute intervals, not {hours:g}", field="--hil"
        )
    n = round(steps)
    if n > inputs.steps:
        raise BacktestError(
            f"{hours:g} hours is longer than the prices ({inputs.steps} intervals)", field="--hil"
        )
    if start is None:
        start = _start_for(inputs, n)
    offset = (start - inputs.start) / step_s
    if abs(offset - round(offset)) > 1e-9:
        raise BacktestError(
            f"{iso(start)} is not on a {step_s / 60:g}-minute interval boundary",
            field="--hil-start",
        )
    first = round(offset)
    if first < 0 or first + n > inputs.steps:
        raise BacktestError(
            f"{iso(start)} + {hours:g} h lies outside the prices "
            f"({iso(inputs.start)}..{iso(inputs.end)})",
            field="--hil-start",
        )
    end = start + n * step_s
    prices = replace(inputs.prices, start=start, values=inputs.prices.values[first : first + n])
    inside = tuple(e for e in inputs.events if start <= e.start and e.end <= end)
    # A 4CP window is known a day ahead: one that starts inside is replayed, one that only
    # straddles an edge is left out; so is any other event cut by an edge.
    left_out = tuple(
        e for e in inputs.events if e.start < end and e.end > start and e not in inside
    )
    return replace(inputs, prices=prices, events=inside), left_out
