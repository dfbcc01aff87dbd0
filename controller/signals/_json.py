"""What every JSON signal parser shares: pydantic's first complaint as one counted
``malformed`` error, and a time given as unix seconds or as ISO 8601 with an offset."""

from __future__ import annotations

from datetime import datetime

from pydantic import ValidationError

from controller.signals.errors import BadSignal, ErrorKind

__all__ = ["epoch_seconds", "malformed"]


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
