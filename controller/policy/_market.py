"""Economic verdicts per lever class, with hysteresis and the stale-input fallback."""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass

from controller.policy._levers import ProfileModel, Step, money
from controller.policy.inputs import PolicyInputs
from controller.policy.memory import LeverMemory, PolicyMemory
from controller.policy.settings import PolicySettings, SafePolicy

__all__ = ["Econ", "Market", "Verdict", "assess_market"]


class Econ(enum.Enum):
    ON = "on"  # economics wants the lever on
    OFF = "off"  # economics wants it shed
    HOLD = "hold"  # no economic change (stale inputs under a hold policy, or AI when stale)


@dataclass(frozen=True, slots=True)
class Verdict:
    econ: Econ
    on_text: str  # why a device resting on this lever stays on
    off_text: str  # why a device resting below it stays off


@dataclass(frozen=True, slots=True, kw_only=True)
class Market:
    price: float  # effective USD/MWh: power price plus any active DR payment
    stale_note: str | None
    verdicts: dict[str, Verdict]  # by step key
    levers: tuple[tuple[str, LeverMemory], ...]
    last_price_at: float | None


def assess_market(
    inputs: PolicyInputs,
    memory: PolicyMemory,
    models: list[ProfileModel],
    active_event_ids: frozenset[str],
) -> Market:
    economics = inputs.economics
    price = economics.power_price.usd_per_mwh + economics.dr_payment_for(active_event_ids)
    stale_note = _stale_note(inputs)
    previous = memory.lever_map()
    new_window = _new_window(memory.last_price_at, economics.power_price.as_of, inputs.settings)
    verdicts: dict[str, Verdict] = {}
    kept: dict[str, LeverMemory] = {}
    steps = sorted(((m, step) for m in models for step in m.steps), key=lambda ms: ms[1].key)
    for model, step in steps:
        if step.key in verdicts:
            continue
        state = previous.get(step.key)
        if not step.always_on and model.tier == 0:
            if stale_note is None and (state is None or new_window):
                state = _update(state or LeverMemory(), step.value < price, inputs)
            kept[step.key] = state or LeverMemory()
        state = state or LeverMemory()
        verdicts[step.key] = _verdict(model, step, state, price, stale_note, inputs)
    return Market(
        price=price,
        stale_note=stale_note,
        verdicts=verdicts,
        levers=tuple(sorted(kept.items())),
        # The price that opened the counted window: later ones in it compare against it.
        last_price_at=economics.power_price.as_of
        if stale_note is None and new_window
        else memory.last_price_at,
    )


def _new_window(counted_at: float | None, as_of: float, settings: PolicySettings) -> bool:
    """Whether a price stamped ``as_of`` opens a window after the one last counted."""
    if counted_at is None:
        return True
    span = settings.price_window_s
    if span <= 0:
        return as_of > counted_at
    return math.floor(as_of / span) > math.floor(counted_at / span)


def _stale_note(inputs: PolicyInputs) -> str | None:
    settings, economics, now = inputs.settings, inputs.economics, inputs.now
    stale = []
    price_age = now - economics.power_price.as_of
    if price_age > settings.max_price_age_s:
        stale.append(f"power price ({price_age:.0f} s old > {settings.max_price_age_s:.0f} s)")
    hash_age = now - economics.hashprice.as_of
    if hash_age > settings.max_hashprice_age_s:
        stale.append(f"hashprice ({hash_age:.0f} s old > {settings.max_hashprice_age_s:.0f} s)")
    stale.extend(f"signal {why}" for why in economics.stale_inputs)
    if not stale:
        return None
    return f"stale {' and '.join(stale)}: safe policy {settings.safe_policy.value}"


def _update(state: LeverMemory, above: bool, inputs: PolicyInputs) -> LeverMemory:
    """One more price window. ``above``: the price exceeds what the lever earns."""
    settings = inputs.settings
    if not state.curtailed:
        windows = state.windows_above + 1 if above else 0
        if above and windows >= settings.curtail_after_windows:
            return LeverMemory(True, windows, 0)
        return LeverMemory(False, windows, 0)
    windows = state.windows_below + 1 if not above else 0
    if not above and windows >= settings.resume_after_windows:
        return LeverMemory(False, 0, windows)
    return LeverMemory(True, 0, windows)


def _verdict(
    model: ProfileModel,
    step: Step,
    state: LeverMemory,
    price: float,
    stale_note: str | None,
    inputs: PolicyInputs,
) -> Verdict:
    settings = inputs.settings
    if model.tier == 1:
        return Verdict(Econ.ON, "contracted AI", "contracted AI")
    above_text = f"{step.label} < price {money(price)}"
    below_text = f"{step.label} >= price {money(price)}"
    if stale_note is not None:
        policy = settings.safe_policy
        if policy is SafePolicy.HOLD or model.profile.is_gpu:
            return Verdict(Econ.HOLD, stale_note, stale_note)
        econ = Econ.OFF if policy is SafePolicy.SLEEP_MINERS else Econ.ON
        return Verdict(econ, stale_note, stale_note)
    if step.always_on:
        text = "idle node kept schedulable"
        return Verdict(Econ.ON, text, text)
    if state.curtailed:
        turning = f"price {money(price)} below {step.label}"
        return _held(
            Econ.OFF, above_text, turning, state.windows_below, settings.resume_after_windows
        )
    turning = f"price {money(price)} above {step.label}"
    return _held(Econ.ON, below_text, turning, state.windows_above, settings.curtail_after_windows)


def _held(econ: Econ, settled: str, turning: str, streak: int, needed: int) -> Verdict:
    """``econ`` holds until ``needed`` windows in a row turn the other way (hysteresis);
    while a streak runs, the text says how far it got."""
    text = f"{turning} for {streak} of {needed} windows" if streak else settled
    return Verdict(econ, text, text)
