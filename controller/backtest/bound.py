"""The upper bound: every device in its best state in every interval, knowing every price.

A relaxation of everything a real strategy faces, so no strategy can beat it:
devices switch instantly and without cost (no boot, ramp, restart, dwell or cycle
limit, no checkpoint), power targets and GPU limits take any value in their range,
and the site's draw under a level may be split fractionally across devices. Per
interval the energy's marginal cost is the real-time price whatever the contract
(the block is a fixed cost and what it leaves unused is sold at that price); a 4CP
peak interval adds its charge per MWh. Under an event the bound takes the better of
meeting the level (and its payment) or paying the penalty on the excess.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from controller.backtest.economics import (
    TOLERANCE_MW,
    EventOutcome,
    Ledger,
    StrategyResult,
    energy_terms,
    peak_interval,
)
from controller.backtest.inputs import Inputs
from controller.backtest.site import BacktestSite, DeviceKind
from controller.policy import EventKind
from simulators.gpu.models import gpu_demand_w, node_base_power_w
from simulators.gpu.state import CAP_EXPONENT

__all__ = ["upper_bound"]


@dataclass(frozen=True, slots=True)
class _Option:
    power_w: float
    hash_hs: float
    ai_usd_per_h: float


def _capped(a: float, k: float, price: float, lo: float, hi: float) -> list[float]:
    """Candidate powers maximising ``a * c**k - price * c`` on [lo, hi] (k < 1: concave)."""
    out = [lo, hi]
    if price > 0 and a > 0 and lo < hi:
        best = (a * k / price) ** (1 / (1 - k))
        out.append(min(hi, max(lo, best)))
    return out


def _options(kind: DeviceKind, price_usd_per_wh: float, usd_per_hs_h: float) -> list[_Option]:
    if kind.gpu is not None:
        g, n = kind.gpu, kind.gpu_count
        idle_w = n * g.idle_w + node_base_power_w(g, 0.0)
        options = [_Option(idle_w, 0.0, 0.0)]
        if kind.job_load <= 0:
            return [_Option(idle_w, 0.0, n * kind.ai_usd_per_gpu_hour)]
        demand = gpu_demand_w(g, kind.job_load)  # the simulator's measured curve
        base = node_base_power_w(g, kind.job_load)
        rate = n * kind.ai_usd_per_gpu_hour
        # revenue(limit) = rate * (limit / demand) ** k below demand: a * limit ** k per GPU
        a = rate / n / demand**CAP_EXPONENT
        lo, hi = g.min_limit_w, min(g.tdp_w, demand)
        for limit in _capped(a, CAP_EXPONENT, price_usd_per_wh, lo, hi):
            share = min(1.0, limit / demand) ** CAP_EXPONENT
            options.append(_Option(n * min(limit, demand) + base, 0.0, rate * share))
        return options
    spec = kind.physics
    assert spec is not None
    options = [_Option(spec.sleep_w, 0.0, 0.0)]
    full_w = (
        spec.nameplate_w
        if kind.initial_cap_w is None
        else min(spec.nameplate_w, kind.initial_cap_w)
    )
    full_h = spec.nameplate_hs * (full_w / spec.nameplate_w) ** spec.cap_exponent
    if not kind.profile.controls:
        return [_Option(full_w, full_h, 0.0)]  # no lever: runs as it is
    options.append(_Option(full_w, full_h, 0.0))
    rng = kind.target_range_w if kind.profile.power_target_range_w is not None else None
    if rng is not None:
        k = spec.cap_exponent
        a = usd_per_hs_h * spec.nameplate_hs / spec.nameplate_w**k
        for c in _capped(a, k, price_usd_per_wh, rng[0], min(rng[1], full_w)):
            options.append(_Option(c, spec.nameplate_hs * (c / spec.nameplate_w) ** k, 0.0))
    return options


def _value(o: _Option, price_wh: float, usd_per_hs_h: float) -> float:
    return o.hash_hs * usd_per_hs_h + o.ai_usd_per_h - o.power_w * price_wh


_Kinds = list[tuple[list[_Option], int, bool]]  # options, device count, GPU node


def _best(
    kinds: _Kinds, price_wh: float, usd_hs: float, limit_w: float
) -> tuple[float, float, float, float, float]:
    """(value/h, W, hash H/s, AI $/h, W of miners) at best under ``limit_w`` (fractional)."""
    chosen: list[tuple[_Option, int, list[_Option]]] = []
    for options, count, _ in kinds:
        best = max(options, key=lambda o: _value(o, price_wh, usd_hs))
        chosen.append((best, count, options))
    total_w = sum(o.power_w * n for o, n, _ in chosen)
    # Shed fractionally, cheapest value per watt first, until under the limit.
    moves = []
    for idx, (o, n, options) in enumerate(chosen):
        for alt in options:
            dw = o.power_w - alt.power_w
            if dw > 0:
                loss = _value(o, price_wh, usd_hs) - _value(alt, price_wh, usd_hs)
                moves.append((loss / dw, idx, alt, n))
    moves.sort(key=lambda m: m[0])
    shares = [{id(o): (o, float(n))} for o, n, _ in chosen]
    over = total_w - limit_w
    for _, idx, alt, _n in moves:
        if over <= 0:
            break
        top, _ = chosen[idx][0], chosen[idx][1]
        have = shares[idx][id(top)][1]
        if have <= 0:
            continue
        dw = top.power_w - alt.power_w
        take = min(have, over / dw)
        shares[idx][id(top)] = (top, have - take)
        prev = shares[idx].get(id(alt), (alt, 0.0))[1]
        shares[idx][id(alt)] = (alt, prev + take)
        over -= take * dw
    value = watts = hashes = ai = miners = 0.0
    for idx, share in enumerate(shares):
        is_gpu = kinds[idx][2]
        for o, units in share.values():
            value += _value(o, price_wh, usd_hs) * units
            watts += o.power_w * units
            hashes += o.hash_hs * units
            ai += o.ai_usd_per_h * units
            if not is_gpu:
                miners += o.power_w * units
    return value, watts, hashes, ai, miners


def upper_bound(site: BacktestSite, inputs: Inputs) -> StrategyResult:
    steps, hours = inputs.steps, inputs.step_s / 3600
    ledger = Ledger(steps=steps, hours=hours)
    counts: dict[int, int] = {}
    for k in site.device_kinds:
        counts[k] = counts.get(k, 0) + 1
    block_mwh = inputs.contract.block_mw * hours
    four_cp = {
        peak_interval(e, inputs): e.transmission_usd_per_mw / hours
        for e in inputs.events
        if e.kind is EventKind.FOUR_CP
    }
    missed: set[str] = set()
    other = site.other_load_w
    for i in range(steps):
        t0 = inputs.start + i * inputs.step_s
        price = inputs.prices.values[i] + four_cp.get(i, 0.0)
        price_wh = price / 1e6
        hashprice = inputs.hashprice.at(t0)
        usd_hs = hashprice / 1e15 / 24  # USD per (H/s) per hour
        tripped = any(
            e.kind is EventKind.RELAY_TRIP and e.start < t0 + inputs.step_s and e.end > t0
            for e in inputs.events
        )
        kinds = []
        for k, n in sorted(counts.items()):
            kind = site.kinds[k]
            options = _options(kind, price_wh, usd_hs)
            if tripped and kind.physics is not None:
                options = [_Option(kind.physics.sleep_w, 0.0, 0.0)]  # the relay cut them
            kinds.append((options, n, kind.is_gpu))
        cap_w = site.cap_mw * 1e6 - other
        free = _best(kinds, price_wh, usd_hs, cap_w)
        chosen = free
        events = [
            e
            for e in inputs.events
            if e.kind is EventKind.INSTRUCTED and e.due < t0 + inputs.step_s and e.end > t0
        ]
        pay = penalty = 0.0
        if events:
            level_w = min((e.level_mw or 0.0) for e in events) * 1e6 - other
            kept = _best(kinds, price_wh, usd_hs, min(cap_w, max(level_w, 0.0)))
            feasible = kept[1] <= level_w + TOLERANCE_MW * 1e6
            site_mw = (free[1] + other) / 1e6
            pen_free = sum(
                max(0.0, site_mw - (e.level_mw or 0.0))
                * e.penalty_usd_per_mwh
                * (min(e.end, t0 + inputs.step_s) - max(e.due, t0))
                / 3600
                for e in events
            )
            if feasible and kept[0] * hours >= free[0] * hours - pen_free:
                chosen = kept
            else:
                penalty = pen_free
                for e in events:
                    missed.add(e.event_id)
            # A relaxation: the payment of every event the site could meet is booked
            # (where it ends), whichever way each interval went.
            pay = sum(
                e.obligation_mw * e.capacity_usd_per_mw_h * (e.end - e.start) / 3600
                for e in events
                if e.end <= t0 + inputs.step_s and feasible
            )
        _, watts, hashes, ai, miners = chosen
        ledger.miner_mw[i] = miners / 1e6
        ledger.gpu_mw[i] = (watts - miners) / 1e6
        ledger.other_mw[i] = other / 1e6
        ledger.usd["hashing"][i] = hashes * usd_hs * hours
        ledger.usd["ai"][i] = ai * hours
        mwh = (watts + other) / 1e6 * hours
        index, block, credits = energy_terms(
            mwh, inputs.prices.values[i], block_mwh, inputs.contract.block_usd_per_mwh
        )
        ledger.usd["energy_index"][i] = index
        ledger.usd["energy_block"][i] = block
        ledger.usd["power_credits"][i] = credits
        if i in four_cp:
            ledger.usd["transmission_4cp"][i] = -four_cp[i] * hours * ledger.site_mw(i)
        ledger.usd["dr_payments"][i] = pay
        ledger.usd["dr_penalties"][i] = -penalty
    results = []
    for e in inputs.events:
        if e.kind is EventKind.RELAY_TRIP:
            continue
        met = e.event_id not in missed
        results.append(
            EventOutcome(event=e, met=met, worst_mw=math.nan, payment_usd=0.0, penalty_usd=0.0)
        )
    return StrategyResult(
        name="upper_bound",
        label="upper bound (perfect foresight)",
        ledger=ledger,
        events=results,
        wakes=[0] * len(site.device_ids),
        device_ids=site.device_ids,
        device_kinds=tuple(site.kinds[k].name for k in site.device_kinds),
    )
