"""What the price forecast changes in the economic verdicts (pure, like the engine).

Two rules, both said in the plan's reasons:

- **No waking into a spike.** A lever that economics would restore stays down when the
  forecast shows the price above what the lever earns within the minimum on-time: a
  miner woken now would have to run through the spike (or cycle early).
- **Shed ahead of a certain spike.** When the forecast is firm (a cleared day-ahead
  curve) and a spike above a lever's value starts within the time the declared
  ramp-down rate needs to shed that load (plus one plan interval), the lever is shed
  now, without waiting for price windows, so the site is down when the spike starts.

Stale inputs switch both off: the safe policy decides then.
"""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import UTC, datetime

from controller.policy._levers import ProfileModel, Step, money
from controller.policy._market import Econ, Market, Verdict
from controller.policy.economics import PricePoint
from controller.policy.inputs import PolicyInputs

__all__ = ["apply_forecast", "shed_lead_s"]

_LAST_POINT_S = 3600.0  # a last point without an end is taken to hold for an hour


def shed_lead_s(inputs: PolicyInputs, sheddable_w: float) -> float:
    """How long before a spike shedding must start: the ramp-down time plus one plan."""
    rate = inputs.grid.ramp_down_mw_per_min
    ramp_s = 0.0 if rate is None else sheddable_w / (rate * 1e6 / 60)
    return ramp_s + inputs.settings.plan_interval_s


def _spans(points: tuple[PricePoint, ...]) -> list[tuple[float, float, float]]:
    ordered = sorted(points, key=lambda p: p.at)
    out = []
    for i, point in enumerate(ordered):
        end = point.end
        if end is None:
            end = ordered[i + 1].at if i + 1 < len(ordered) else point.at + _LAST_POINT_S
        out.append((point.at, end, point.usd_per_mwh))
    return out


def _clock(at: float, offset_s: int) -> str:
    return datetime.fromtimestamp(at + offset_s, UTC).strftime("%H:%M")


def apply_forecast(
    inputs: PolicyInputs, market: Market, models: list[ProfileModel], lead_s: float
) -> Market:
    """The market's verdicts with the forecast's two rules applied."""
    power = inputs.economics.power_price
    if market.stale_note is not None or not power.forecast:
        return market
    now, settings = inputs.now, inputs.settings
    spans = [s for s in _spans(power.forecast) if s[1] > now]
    if not spans:
        return market
    horizon = now + settings.min_on_dwell_s
    verdicts = dict(market.verdicts)
    seen: set[str] = set()
    for model in models:
        if model.tier != 0:
            continue
        for step in model.steps:
            if step.always_on or step.key in seen:
                continue
            seen.add(step.key)
            verdict = verdicts.get(step.key)
            if verdict is not None:
                verdicts[step.key] = _decide(
                    inputs, step, verdict, spans, horizon, lead_s, power.forecast_firm
                )
    return replace(market, verdicts=verdicts)


def _decide(
    inputs: PolicyInputs,
    step: Step,
    verdict: Verdict,
    spans: list[tuple[float, float, float]],
    horizon: float,
    lead_s: float,
    firm: bool,
) -> Verdict:
    now, offset = inputs.now, inputs.settings.utc_offset_s
    spike = next(
        (s for s in spans if s[2] > step.value and s[0] < max(horizon, now + lead_s)), None
    )
    if spike is None:
        return verdict
    start, _, price = spike
    when = "now" if start <= now else f"from {_clock(start, offset)}"
    if firm and now < start <= now + lead_s and verdict.econ is not Econ.OFF:
        text = (
            f"forecast {money(price)} {when} > {step.label}: shed ahead of it"
            f" ({math.ceil((start - now) / 60):.0f} min, within the ramp-down lead)"
        )
        return Verdict(Econ.OFF, text, text)
    if verdict.econ is Econ.ON and start < horizon:
        minutes = inputs.settings.min_on_dwell_s / 60
        text = (
            f"forecast {money(price)} {when} > {step.label} within min on-time"
            f" {minutes:.0f} min: not woken"
        )
        return Verdict(Econ.HOLD, verdict.on_text, text)
    return verdict
