"""The price forecast in the plan: no waking into a spike within the minimum on-time, and
a shed started early enough, at the declared ramp-down rate, for a certain spike."""

from __future__ import annotations

from dataclasses import replace

from controller.policy import Action, PolicyInputs, PricePoint, plan
from drivers import MiningState
from tests.policy.site import FAST, T0, grid, inputs, miner

# S19j Pro at $24/PH/day breaks even at $34/MWh; the price now is $20.
SETTINGS = replace(FAST, min_on_dwell_s=1800.0, plan_interval_s=300.0)


def with_forecast(base: PolicyInputs, *points: tuple[float, float], firm: bool) -> PolicyInputs:
    forecast = tuple(PricePoint(T0 + at, usd, T0 + at + 3600) for at, usd in points)
    power = replace(base.economics.power_price, forecast=forecast, forecast_firm=firm)
    return replace(base, economics=replace(base.economics, power_price=power))


def actions(base: PolicyInputs) -> list[tuple[Action, str]]:
    result, _ = plan(base)
    return [(t.action, t.reason) for t in result.targets()]


def test_sleeping_miners_are_not_woken_into_a_spike_within_their_min_on_time() -> None:
    asleep = [miner(f"m{i}", state=MiningState.SLEEPING) for i in range(3)]
    base = inputs(asleep, price=20.0, settings=SETTINGS)
    assert {a for a, _ in actions(base)} == {Action.RUN}  # no forecast: they wake
    spiked = with_forecast(base, (600, 200.0), firm=False)
    got = actions(spiked)
    assert {a for a, _ in got} == {Action.SLEEP}  # they stay asleep
    assert "forecast $200/MWh from" in got[0][1]
    assert "not woken" in got[0][1]
    # A spike beyond the minimum on-time does not hold them.
    later = with_forecast(base, (7200, 200.0), firm=False)
    assert {a for a, _ in actions(later)} == {Action.RUN}
    # Nor does a forecast below their break-even.
    mild = with_forecast(base, (600, 30.0), firm=False)
    assert {a for a, _ in actions(mild)} == {Action.RUN}


def test_running_miners_keep_running_under_an_uncertain_forecast() -> None:
    running = [miner(f"m{i}") for i in range(3)]
    base = with_forecast(inputs(running, price=20.0, settings=SETTINGS), (200, 200.0), firm=False)
    assert {a for a, _ in actions(base)} == {Action.RUN}


def test_a_certain_spike_is_shed_ahead_within_the_ramp_down_lead() -> None:
    running = [miner(f"m{i}") for i in range(10)]  # 10 x 3.25 kW
    base = inputs(running, price=20.0, settings=SETTINGS)
    # Starting in 400 s: one plan interval (300 s) is not enough lead without a ramp limit...
    assert {a for a, _ in actions(with_forecast(base, (400, 200.0), firm=True))} == {Action.RUN}
    # ...but at 10 kW/min the 32.5 kW need 195 s more: the shed starts now.
    ramped = replace(base, grid=grid(down=0.01))
    got = actions(with_forecast(ramped, (400, 200.0), firm=True))
    assert any(a is Action.SLEEP for a, _ in got)
    assert all("shed ahead of it" in r for a, r in got if a is Action.SLEEP)
    # Within one plan interval of the spike, even without a ramp limit.
    assert {a for a, _ in actions(with_forecast(base, (200, 200.0), firm=True))} == {Action.SLEEP}


def test_stale_inputs_turn_the_forecast_off() -> None:
    asleep = [miner(f"m{i}", state=MiningState.SLEEPING) for i in range(2)]
    base = inputs(
        asleep, price=20.0, settings=replace(SETTINGS, max_price_age_s=60.0), as_of=T0 - 3600
    )
    got = actions(with_forecast(base, (600, 200.0), firm=True))
    assert all("stale" in r and "forecast" not in r for _, r in got)
