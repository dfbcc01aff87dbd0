"""What every JSON signal parser shares: a lenient frozen model (unknown keys ignored),
a time window, pydantic's first complaint as one counted ``malformed`` error, and a time
given as unix seconds or as ISO 8601 with an offset."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, ValidationError

from controller.signals.errors import BadSignal, ErrorKind

__all__ = ["Lenient", "TimeWindow", "epoch_seconds", "malformed"]


class Lenient(BaseModel):
    """An upstream's document: keys we do not read are ignored, not refused."""

    model_config = ConfigDict(extra="ignore", frozen=True)


class TimeWindow(Lenient):
    """``start``/``end`` as unix seconds or ISO 8601 with an offset (:func:`epoch_seconds`)."""

    start: float | datetime
    end: float | datetime


def malformed(what: str, exc: ValidationError) -> BadSignal:
    """``"<what> <where>: <message>"`` for the first thing ``exc`` found wrong."""
    first = exc.errors(include_url=False)[0]
    where = ".".join(str(p) for p in first["loc"]) or "body"
    return BadSignal(f"{what} {where}: {first['msg']}".lstrip(), ErrorKind.MALFORMED)


def epoch_seconds(value: float | datetime) -> float:
    """Unix seconds; a datetime must say its offset (a local time is ambiguous)."""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise BadSignal("a time without a UTC offset", ErrorKind.MALFORMED)
        return value.timestamp()
    return float(value)
