"""Grid programs and the power contract, read from YAML.

Events (``--events``)::

    events:
      - id: ers-0817                 # instructed, ERS-10 style
        kind: instructed
        start: 2023-08-17T23:00:00Z
        deadline_min: 10             # minutes allowed to reach the level
        duration_min: 60
        level_mw: 0.05               # the most the site may draw from the deadline on
        obligation_mw: 0.15          # the drop the site committed to (capacity payment basis)
        capacity_usd_per_mw_h: 80    # paid per MW of obligation per event hour met
        penalty_usd_per_mwh: 5000    # per MWh drawn above the level after the deadline
      - {id: 4cp-aug, kind: 4cp, start: 2023-08-10T21:00:00Z, duration_min: 60,
         transmission_usd_per_mw: 4000}   # charged on the site's MW in the peak interval
      - {id: trip-1, kind: relay_trip, start: 2023-08-20T01:00:00Z, duration_min: 30}

Contract (``--contract``)::

    kind: both                 # index | block | both
    block_mw: 0.15             # bought at block_usd_per_mwh whether used or not;
    block_usd_per_mwh: 45      # what the site leaves unused is sold at the real-time price
    checkpoint_usd_per_node: 1 # cost of one checkpoint of a GPU node's jobs
    requeue_usd_per_node: 8    # cost of requeueing them (work lost since the last checkpoint)
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Annotated, Literal, Self

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    NonNegativeFloat,
    PositiveFloat,
    ValidationInfo,
    field_validator,
    model_validator,
)

from controller.backtest.yamlfile import load_yaml_model
from controller.policy import EventKind

__all__ = ["Contract", "ProgramEvent", "load_contract", "load_events"]

_KINDS = {
    "instructed": EventKind.INSTRUCTED,
    "4cp": EventKind.FOUR_CP,
    "relay_trip": EventKind.RELAY_TRIP,
}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _finite(value: float) -> float:
    if not math.isfinite(value):
        raise ValueError("must be a finite number")
    return value


class EventModel(_Strict):
    id: Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")]
    kind: Literal["instructed", "4cp", "relay_trip"]
    start: AwareDatetime
    duration_min: PositiveFloat
    deadline_min: NonNegativeFloat = 0.0
    level_mw: NonNegativeFloat | None = None
    obligation_mw: NonNegativeFloat = 0.0
    capacity_usd_per_mw_h: NonNegativeFloat = 0.0
    penalty_usd_per_mwh: NonNegativeFloat = 0.0
    transmission_usd_per_mw: NonNegativeFloat = 0.0
    peak: AwareDatetime | None = None

    @field_validator("start", "peak")
    @classmethod
    def _within_prices(cls, value: datetime | None, info: ValidationInfo) -> datetime | None:
        span = (info.context or {}).get("span")
        if value is not None and span is not None:
            t = value.timestamp()
            if not span[0] <= t < span[1]:
                raise ValueError(f"{value.isoformat()} is outside the price series")
        return value

    @model_validator(mode="after")
    def _consistent(self, info: ValidationInfo) -> Self:
        if self.kind == "instructed" and self.level_mw is None:
            raise ValueError("an instructed event needs level_mw")
        if self.deadline_min > self.duration_min:
            raise ValueError("deadline_min must not exceed duration_min")
        span = (info.context or {}).get("span")
        end = self.start.timestamp() + self.duration_min * 60
        if span is not None and end > span[1]:
            raise ValueError(f"event {self.id} ends after the price series")
        if self.peak is not None and not (self.start.timestamp() <= self.peak.timestamp() < end):
            raise ValueError("peak must lie within the event")
        return self


class EventsFile(_Strict):
    events: list[EventModel] = Field(default_factory=list)

    @model_validator(mode="after")
    def _unique(self) -> Self:
        ids = [e.id for e in self.events]
        if len(set(ids)) != len(ids):
            raise ValueError("event ids must be unique")
        return self


class ContractFile(_Strict):
    kind: Literal["index", "block", "both"] = "index"
    block_mw: NonNegativeFloat = 0.0
    block_usd_per_mwh: Annotated[float, Field(ge=-10_000, le=100_000)] = 0.0
    checkpoint_usd_per_node: NonNegativeFloat = 1.0
    requeue_usd_per_node: NonNegativeFloat = 8.0

    _block_finite = field_validator("block_usd_per_mwh")(_finite)

    @model_validator(mode="after")
    def _block_given(self) -> Self:
        if self.kind == "index" and self.block_mw:
            raise ValueError("an index contract has no block_mw (use kind: both)")
        if self.kind != "index" and not self.block_mw:
            raise ValueError(f"a {self.kind} contract needs block_mw")
        return self


@dataclass(frozen=True, slots=True, kw_only=True)
class ProgramEvent:
    """One grid program event, in unix seconds."""

    event_id: str
    kind: EventKind
    start: float
    end: float
    due: float  # when the level must be met (instructed: start + deadline)
    level_mw: float | None = None
    obligation_mw: float = 0.0
    capacity_usd_per_mw_h: float = 0.0
    penalty_usd_per_mwh: float = 0.0
    transmission_usd_per_mw: float = 0.0
    peak: float | None = None  # 4CP: the coincident-peak interval's start

    def active(self, t: float) -> bool:
        return self.start <= t < self.end


@dataclass(frozen=True, slots=True, kw_only=True)
class Contract:
    block_mw: float = 0.0  # 0: index only
    block_usd_per_mwh: float = 0.0
    checkpoint_usd_per_node: float = 1.0
    requeue_usd_per_node: float = 8.0

    @property
    def kind(self) -> str:
        return "index" if not self.block_mw else "block + index"


def load_events(path: Path, *, span: tuple[float, float]) -> tuple[ProgramEvent, ...]:
    raw = load_yaml_model(path, EventsFile, what="events file", context={"span": span})
    out = []
    for e in raw.events:
        start = e.start.timestamp()
        out.append(
            ProgramEvent(
                event_id=e.id,
                kind=_KINDS[e.kind],
                start=start,
                end=start + e.duration_min * 60,
                due=start + e.deadline_min * 60,
                level_mw=e.level_mw,
                obligation_mw=e.obligation_mw,
                capacity_usd_per_mw_h=e.capacity_usd_per_mw_h,
                penalty_usd_per_mwh=e.penalty_usd_per_mwh,
                transmission_usd_per_mw=e.transmission_usd_per_mw,
                peak=None if e.peak is None else e.peak.timestamp(),
            )
        )
    return tuple(sorted(out, key=lambda ev: (ev.start, ev.event_id)))


def load_contract(path: Path) -> Contract:
    raw = load_yaml_model(path, ContractFile, what="contract file")
    return Contract(
        block_mw=raw.block_mw,
        block_usd_per_mwh=raw.block_usd_per_mwh,
        checkpoint_usd_per_node=raw.checkpoint_usd_per_node,
        requeue_usd_per_node=raw.requeue_usd_per_node,
    )
