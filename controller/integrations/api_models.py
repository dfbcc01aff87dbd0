"""Request bodies of the HTTP API: pydantic at the edge, strict, bounded, finite.

Strict: a JSON ``false`` is not the time 0 and ``"3"`` is not a number (schemathesis
found both accepted). Times are unix seconds from 2001 on: an event or a price in
1970 is a client's bug, refused at the edge.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from controller.policy import EventKind
from controller.service.control import EventSpec

__all__ = [
    "BODIES",
    "EconomicsBody",
    "EventBody",
    "EventPatch",
    "OverrideBody",
    "PauseBody",
]

# 1e9 s is 2001-09-09; 1e11 s is beyond the year 5000.
_Time = Annotated[float, Field(ge=1e9, le=1e11, allow_inf_nan=False)]
_Label = Annotated[str, Field(max_length=200)]


def _no_default(schema: dict[str, Any]) -> None:
    """An optional field that may not be ``null``: the document shows no ``null`` default."""
    schema.pop("default", None)


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class EventBody(_Body):
    """A grid event: an instructed curtailment to a level by a deadline, a 4CP window,
    a price event, or a relay trip (which latches until POST /api/v1/relay/clear)."""

    kind: Literal["instructed", "4cp", "price", "relay_trip"]
    level_mw: Annotated[float, Field(ge=0, le=100_000, allow_inf_nan=False)] | None = None
    start: _Time | None = Field(default=None, description="unix seconds; default now")
    end: _Time | None = Field(default=None, description="unix seconds; default start + 1 h")
    deadline: _Time | None = Field(default=None, description="when the level must be met")
    within_s: Annotated[float, Field(gt=0, le=86_400, allow_inf_nan=False)] | None = Field(
        default=None, description="deadline as seconds after start (e.g. 600 for ERS-10)"
    )
    event_id: Annotated[str, Field(pattern=r"^[A-Za-z0-9_.:-]{1,64}$")] | None = None
    source: Annotated[str, Field(min_length=1, max_length=64)] = "api"

    def to_spec(self) -> EventSpec:
        """What the command service takes: the one conversion at this edge (HTTP and MQTT)."""
        return EventSpec(
            kind=EventKind(self.kind),
            level_mw=self.level_mw,
            start=self.start,
            end=self.end,
            deadline=self.deadline,
            within_s=self.within_s,
            event_id=self.event_id,
            source=self.source,
        )


class EventPatch(_Body):
    """At least one change. ``end`` may be moved but never removed (``null`` is refused);
    ``deadline: null`` removes the deadline."""

    model_config = ConfigDict(json_schema_extra={"minProperties": 1})

    level_mw: Annotated[float, Field(ge=0, le=100_000, allow_inf_nan=False)] | None = None
    # Not nullable: an event without an end would never be over (found by the fuzzer as a 500).
    # Absent is allowed (the default is never read: changes are model_dump(exclude_unset)).
    end: _Time = Field(default=None, validate_default=False, json_schema_extra=_no_default)  # type: ignore[assignment]
    deadline: _Time | None = None

    @model_validator(mode="after")
    def _changes_something(self) -> EventPatch:
        if not self.model_fields_set:
            raise ValueError("give at least one of level_mw, end, deadline")
        return self


class OverrideBody(_Body):
    action: Literal["force_sleep", "exclude"]
    ttl_s: Annotated[float, Field(gt=0, le=30 * 86_400, allow_inf_nan=False)] | None = Field(
        default=None, description="seconds until the override expires; omit for no expiry"
    )
    reason: _Label = ""


class PauseBody(_Body):
    reason: _Label = ""


class EconomicsBody(_Body):
    power_price_usd_per_mwh: (
        Annotated[float, Field(ge=-10_000, le=100_000, allow_inf_nan=False)] | None
    ) = None
    hashprice_usd_per_ph_day: (
        Annotated[float, Field(ge=0, le=100_000, allow_inf_nan=False)] | None
    ) = None
    as_of: _Time | None = Field(default=None, description="when the values were true; now")
    source: Annotated[str, Field(min_length=1, max_length=64)] = "api"


BODIES: tuple[type[_Body], ...] = (
    EventBody,
    EventPatch,
    OverrideBody,
    PauseBody,
    EconomicsBody,
)
