"""Economic inputs: what hashing earns, what power costs, what AI work is worth.

Formulas are docs/domain.md's. Every input carries ``as_of`` (unix seconds) and a
``source`` so the engine can judge staleness against ``now`` (:class:`Stamped`; the
hashprice, built positionally, spells them out).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from controller.policy.errors import InvalidEconomics
from controller.policy.stamped import Stamped

__all__ = [
    "AiValue",
    "DrPayment",
    "Economics",
    "Hashprice",
    "PowerPrice",
    "PricePoint",
    "blocks_per_day_per_ph",
    "break_even_usd_per_mwh",
]

_SECONDS_PER_DAY = 86_400
_TWO_POW_32 = 2**32


def _finite(value: float, what: str, *, minimum: float | None = None) -> None:
    if not math.isfinite(value):
        raise InvalidEconomics(f"{what} must be finite, got {value!r}")
    if minimum is not None and value < minimum:
        raise InvalidEconomics(f"{what} must be >= {minimum}, got {value!r}")


def blocks_per_day_per_ph(difficulty: float) -> float:
    """Expected blocks per day found by one PH/s at ``difficulty``."""
    _finite(difficulty, "difficulty", minimum=1.0)
    return (1e15 * _SECONDS_PER_DAY) / (difficulty * _TWO_POW_32)


def break_even_usd_per_mwh(hashprice_usd_per_ph_day: float, j_per_th: float) -> float:
    """Power price above which a miner at ``j_per_th`` loses money (E J/TH draws E kW per PH/s)."""
    return hashprice_usd_per_ph_day / (0.024 * j_per_th)


@dataclass(frozen=True, slots=True)
class Hashprice:
    usd_per_ph_day: float
    as_of: float
    source: str

    def __post_init__(self) -> None:
        _finite(self.usd_per_ph_day, "hashprice", minimum=0.0)
        _finite(self.as_of, "hashprice timestamp")

    @classmethod
    def from_network(
        cls,
        *,
        difficulty: float,
        subsidy_btc: float,
        mean_fees_btc: float,
        btc_usd: float,
        as_of: float,
        source: str,
    ) -> Hashprice:
        """Hashprice from difficulty, block subsidy, mean fees (last 144 blocks) and BTC price.

        ``as_of`` should be the oldest of the four inputs' timestamps.
        """
        _finite(subsidy_btc, "subsidy", minimum=0.0)
        _finite(mean_fees_btc, "mean fees", minimum=0.0)
        _finite(btc_usd, "BTC price", minimum=0.0)
        btc_per_ph_day = blocks_per_day_per_ph(difficulty) * (subsidy_btc + mean_fees_btc)
        return cls(btc_per_ph_day * btc_usd, as_of, source)


@dataclass(frozen=True, slots=True)
class PricePoint:
    """A forecast price from ``at`` until ``end`` (``None``: until the next point)."""

    at: float
    usd_per_mwh: float
    end: float | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class PowerPrice(Stamped):
    """The settlement-point price now (may be negative) and an optional short forecast."""

    usd_per_mwh: float
    forecast: tuple[PricePoint, ...] = ()
    # A cleared market's curve (day-ahead) is firm: a spike in it will happen, and the
    # engine may shed ahead of it. An estimate only keeps sleeping miners asleep.
    forecast_firm: bool = False

    def __post_init__(self) -> None:
        _finite(self.usd_per_mwh, "power price")
        _finite(self.as_of, "power price timestamp")
        for point in self.forecast:
            _finite(point.usd_per_mwh, "forecast price")


@dataclass(frozen=True, slots=True, kw_only=True)
class AiValue(Stamped):
    """What one GPU-hour of each AI job class earns, in USD."""

    contracted_usd_per_gpu_hour: float
    interruptible_usd_per_gpu_hour: float
    idle_usd_per_gpu_hour: float

    def __post_init__(self) -> None:
        _finite(self.contracted_usd_per_gpu_hour, "contracted AI value", minimum=0.0)
        _finite(self.interruptible_usd_per_gpu_hour, "interruptible AI value", minimum=0.0)
        _finite(self.idle_usd_per_gpu_hour, "idle AI value", minimum=0.0)


@dataclass(frozen=True, slots=True)
class DrPayment:
    """What the site is paid per MWh not drawn while a demand-response event is active."""

    event_id: str
    usd_per_mwh: float

    def __post_init__(self) -> None:
        _finite(self.usd_per_mwh, f"DR payment for {self.event_id}", minimum=0.0)


@dataclass(frozen=True, slots=True, kw_only=True)
class Economics:
    hashprice: Hashprice
    power_price: PowerPrice
    ai_value: AiValue
    dr_payments: tuple[DrPayment, ...] = ()
    # Inputs the caller judged stale on its own (signal sources past their limits), with
    # why: the engine treats them as it treats a stale price.
    stale_inputs: tuple[str, ...] = ()

    def dr_payment_for(self, event_ids: frozenset[str]) -> float:
        """The largest payment among the active events (payments do not stack)."""
        paid = [p.usd_per_mwh for p in self.dr_payments if p.event_id in event_ids]
        return max(paid, default=0.0)
