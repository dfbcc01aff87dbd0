"""Money per settlement interval: what each strategy earned and paid, by component.

Signs: revenues positive, costs negative; ``total`` is their sum.

- hashing: hashprice (USD/PH/day) x hashes done;
- ai: each GPU node's class rate (USD/GPU-hour) x GPU-hours of work, scaled by the
  throughput its power limit leaves (simulators/gpu/state.py); nothing while drained;
- ai_interruptions: a checkpoint or requeue of a node's jobs, at the contract's cost;
- energy_index: energy above the fixed block, at the real-time price;
- energy_block: the fixed block, at its price, used or not;
- power_credits: block energy the site did not use, sold back at the real-time price;
- dr_payments: an instructed event's capacity payment (obligation MW x event hours x
  rate), when the site stayed at or under the level from the deadline to the end;
- dr_penalties: energy above the level after the deadline, at the penalty rate;
- transmission_4cp: a 4CP window's charge on the site's MW in the peak interval.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from controller.backtest.inputs import Inputs
from controller.backtest.programs import ProgramEvent
from controller.backtest.stepper import Period, Trace
from controller.policy import EventKind

__all__ = [
    "COMPONENTS",
    "EventOutcome",
    "Ledger",
    "StrategyResult",
    "energy_terms",
    "peak_interval",
    "settle",
]

COMPONENTS = (
    "hashing",
    "ai",
    "ai_interruptions",
    "energy_index",
    "energy_block",
    "power_credits",
    "dr_payments",
    "dr_penalties",
    "transmission_4cp",
)
TOLERANCE_MW = 1e-4  # 0.1 kW: the level counts as met within this (numerical slack only)
_J_PER_MWH = 3.6e9


@dataclass(slots=True, kw_only=True)
class Ledger:
    """Per settlement interval: each component in USD and the site's mean MW by class."""

    steps: int
    hours: float  # length of one settlement interval
    usd: dict[str, list[float]] = field(default_factory=dict)
    miner_mw: list[float] = field(default_factory=list)
    gpu_mw: list[float] = field(default_factory=list)
    other_mw: list[float] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.usd = {c: [0.0] * self.steps for c in COMPONENTS}
        self.miner_mw = [0.0] * self.steps
        self.gpu_mw = [0.0] * self.steps
        self.other_mw = [0.0] * self.steps

    def site_mw(self, i: int) -> float:
        return self.miner_mw[i] + self.gpu_mw[i] + self.other_mw[i]

    def totals(self) -> dict[str, float]:
        out = {c: sum(v) for c, v in self.usd.items()}
        out["total"] = sum(out.values())
        return out

    def cumulative(self) -> list[float]:
        running, out = 0.0, []
        for i in range(self.steps):
            running += sum(self.usd[c][i] for c in COMPONENTS)
            out.append(running)
        return out


@dataclass(frozen=True, slots=True, kw_only=True)
class EventOutcome:
    """How a strategy did in one program event (its id, kind, level and times are the
    event's own)."""

    event: ProgramEvent
    met: bool
    worst_mw: float  # highest mean site MW over any accounting period after the deadline
    payment_usd: float
    penalty_usd: float
    trace: tuple[tuple[float, float], ...] = ()  # (time, site MW) around the event


@dataclass(slots=True, kw_only=True)
class StrategyResult:
    name: str
    label: str
    ledger: Ledger
    events: list[EventOutcome]
    wakes: list[int]
    device_ids: tuple[str, ...] = ()
    device_kinds: tuple[str, ...] = ()
    notes: dict[str, int] = field(default_factory=dict)
    kind_mwh: dict[str, float] = field(default_factory=dict)  # energy by device kind

    @property
    def totals(self) -> dict[str, float]:
        return self.ledger.totals()

    @property
    def energy_mwh(self) -> float:
        ledger = self.ledger
        return sum(ledger.site_mw(i) for i in range(ledger.steps)) * ledger.hours

    @property
    def events_met(self) -> int:
        return sum(1 for e in self.events if e.met and e.event.kind is EventKind.INSTRUCTED)

    @property
    def events_missed(self) -> int:
        return sum(1 for e in self.events if not e.met and e.event.kind is EventKind.INSTRUCTED)


def energy_terms(
    mwh: float, price: float, block_mwh: float, block_price: float
) -> tuple[float, float, float]:
    """(index cost, block cost, credits) of one interval, signed as in the ledger."""
    index = -max(0.0, mwh - block_mwh) * price
    credits = max(0.0, block_mwh - mwh) * price
    return index, -block_mwh * block_price, credits


def peak_interval(event: ProgramEvent, inputs: Inputs) -> int:
    """A 4CP window's coincident-peak interval: as given, else its highest-price interval."""
    if event.peak is not None:
        return inputs.prices.index(event.peak)
    first, last = inputs.prices.index(event.start), inputs.prices.index(event.end - 1)
    return max(range(first, last + 1), key=lambda i: (inputs.prices.values[i], -i))


def _event_outcome(
    event: ProgramEvent, periods: list[Period], ledger: Ledger, inputs: Inputs
) -> EventOutcome:
    if event.kind is EventKind.FOUR_CP:
        i = peak_interval(event, inputs)
        charge = event.transmission_usd_per_mw * ledger.site_mw(i)
        ledger.usd["transmission_4cp"][i] -= charge
        trace = _around(event, periods)
        return EventOutcome(
            event=event,
            met=True,
            worst_mw=ledger.site_mw(i),
            payment_usd=0.0,
            penalty_usd=-charge,
            trace=trace,
        )
    level = event.level_mw
    worst, excess_mwh, met = 0.0, 0.0, True
    penalties: dict[int, float] = {}
    for p in periods:
        if p.end <= event.due or p.start >= event.end or p.end <= p.start:
            continue
        mw = p.site_w / 1e6
        worst = max(worst, mw)
        if level is not None and mw > level + TOLERANCE_MW:
            met = False
            over = (mw - level) * (p.end - p.start) / 3600
            excess_mwh += over
            penalties[p.interval] = penalties.get(p.interval, 0.0) + over
    payment = 0.0
    last = inputs.prices.index(event.end - 1)
    if event.kind is EventKind.INSTRUCTED and met:
        payment = event.obligation_mw * (event.end - event.start) / 3600
        payment *= event.capacity_usd_per_mw_h
        ledger.usd["dr_payments"][last] += payment
    penalty = 0.0
    for i, over in penalties.items():
        ledger.usd["dr_penalties"][i] -= over * event.penalty_usd_per_mwh
        penalty += over * event.penalty_usd_per_mwh
    return EventOutcome(
        event=event,
        met=met,
        worst_mw=worst,
        payment_usd=payment,
        penalty_usd=-penalty,
        trace=_around(event, periods),
    )


def _around(event: ProgramEvent, periods: list[Period]) -> tuple[tuple[float, float], ...]:
    lo, hi = event.start - 1800, event.end + 1800
    return tuple((p.start, p.site_w / 1e6) for p in periods if lo <= p.start < hi)


def settle(trace: Trace, inputs: Inputs) -> StrategyResult:
    """Turn a strategy's trace into money by component, and event outcomes."""
    steps = inputs.steps
    hours = inputs.step_s / 3600
    ledger = Ledger(steps=steps, hours=hours)
    contract = inputs.contract
    for p in trace.periods:
        i = p.interval
        ledger.miner_mw[i] += p.miner_j / 1e6 / inputs.step_s
        ledger.gpu_mw[i] += p.gpu_j / 1e6 / inputs.step_s
        ledger.other_mw[i] += p.other_j / 1e6 / inputs.step_s
        hashprice = inputs.hashprice.at(p.start)
        ledger.usd["hashing"][i] += p.hash_h / 1e15 * hashprice / 86_400
        ledger.usd["ai"][i] += p.ai_usd
        ledger.usd["ai_interruptions"][i] -= (
            p.checkpoints * contract.checkpoint_usd_per_node
            + p.requeues * contract.requeue_usd_per_node
        )
    block_mwh = contract.block_mw * hours
    for i in range(steps):
        mwh = ledger.site_mw(i) * hours
        index, block, credits = energy_terms(
            mwh, inputs.prices.values[i], block_mwh, contract.block_usd_per_mwh
        )
        ledger.usd["energy_index"][i] += index
        ledger.usd["energy_block"][i] += block
        ledger.usd["power_credits"][i] += credits
    events = [
        _event_outcome(e, trace.periods, ledger, inputs)
        for e in inputs.events
        if e.kind is not EventKind.RELAY_TRIP
    ]
    return StrategyResult(
        name=trace.name,
        label=trace.label,
        ledger=ledger,
        events=events,
        wakes=trace.wakes,
        device_ids=trace.device_ids,
        device_kinds=trace.device_kinds,
        notes=trace.notes,
        kind_mwh={kind: joules / _J_PER_MWH for kind, joules in trace.kind_j.items()},
    )
