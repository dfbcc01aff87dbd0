"""What a source emits: typed, frozen updates, each stamped with its time of origin.

The hub stamps the time of arrival itself. Prices are USD/MWh, hashprice USD/PH/day,
levels MW, times unix seconds.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from controller import policy

__all__ = [
    "Contact",
    "EventAction",
    "EventUpdate",
    "FlagUpdate",
    "HashpriceUpdate",
    "PriceInterval",
    "PriceMarket",
    "PriceUpdate",
    "RelayUpdate",
    "Stamped",
    "Update",
]


class PriceMarket(enum.StrEnum):
    REAL_TIME = "real_time"  # settled prices: the newest is the price now
    DAY_AHEAD = "day_ahead"  # the cleared day-ahead curve: the price forecast


@dataclass(frozen=True, slots=True, kw_only=True)
class PriceInterval:
    start: float
    end: float
    usd_per_mwh: float


@dataclass(frozen=True, slots=True, kw_only=True)
class Stamped:
    """What every update carries: the source that sent it and its time of origin."""

    source: str
    origin_at: float


@dataclass(frozen=True, slots=True, kw_only=True)
class PriceUpdate(Stamped):
    """``origin_at``: real time, the newest interval's end; day-ahead, the curve's first start."""

    market: PriceMarket
    intervals: tuple[PriceInterval, ...]  # in time order, no two with the same start


@dataclass(frozen=True, slots=True, kw_only=True)
class HashpriceUpdate(Stamped):
    """``origin_at``: the oldest of the inputs it was computed from."""

    usd_per_ph_day: float
    detail: tuple[tuple[str, float], ...] = ()  # difficulty, subsidy, fees, BTC price


class EventAction(enum.StrEnum):
    CREATE = "create"  # create, or change if the provider's id is already known
    CANCEL = "cancel"


@dataclass(frozen=True, slots=True, kw_only=True)
class EventUpdate(Stamped):
    action: EventAction
    provider_event_id: str
    sequence: int  # the provider's version (OpenADR modificationNumber); higher wins
    kind: policy.EventKind = policy.EventKind.INSTRUCTED
    level_mw: float | None = None
    start: float | None = None
    end: float | None = None
    deadline: float | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class RelayUpdate(Stamped):
    tripped: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class FlagUpdate(Stamped):
    """A yes/no flag for one window, such as a 4CP peak forecast for a 15-minute interval."""

    active: bool
    start: float
    end: float


@dataclass(frozen=True, slots=True, kw_only=True)
class Contact(Stamped):
    """The upstream answered and had nothing new: keeps a contact-aged source fresh."""


Update = PriceUpdate | HashpriceUpdate | EventUpdate | RelayUpdate | FlagUpdate | Contact
