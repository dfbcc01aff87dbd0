"""A generic price feed: CSV or JSON from any URL, in the shape docs/signals.md documents.

JSON::

    {"unit": "USD/MWh", "intervals": [{"start": "2023-08-17T19:30:00-05:00",
                                       "end": "2023-08-17T19:45:00-05:00", "price": 5241.48}]}

CSV: a header ``start,end,price`` (and optionally ``unit``), one interval a row. Times
are ISO 8601 with an offset, or unix seconds. Units: USD/MWh, or USD/kWh (converted);
anything else is a ``units`` error.
"""

from __future__ import annotations

import csv
import io
import itertools
import math
from datetime import datetime
from typing import Annotated

from pydantic import Field, ValidationError

from controller.signals._json import Lenient, TimeWindow, epoch_seconds, malformed
from controller.signals.errors import BadSignal, ErrorKind
from controller.signals.updates import PriceInterval

__all__ = ["UNITS", "parse_price_feed"]

UNITS = {"usd/mwh": 1.0, "$/mwh": 1.0, "usd/kwh": 1000.0, "$/kwh": 1000.0}
_MAX_INTERVALS = 10_000


class _Interval(TimeWindow):
    price: float


class _Feed(Lenient):
    unit: str = "USD/MWh"
    intervals: Annotated[list[_Interval], Field(max_length=_MAX_INTERVALS)]


def _scale(unit: str) -> float:
    scale = UNITS.get(unit.strip().lower())
    if scale is None:
        raise BadSignal(f"unit {unit[:20]!r} is not USD/MWh or USD/kWh", ErrorKind.UNITS)
    return scale


def _interval(start: float, end: float, price: float, scale: float) -> PriceInterval:
    if not (math.isfinite(start) and math.isfinite(end) and math.isfinite(price)):
        raise BadSignal("a time or price that is not a number", ErrorKind.MALFORMED)
    return PriceInterval(start=start, end=end, usd_per_mwh=price * scale)


def parse_price_feed(body: bytes) -> tuple[PriceInterval, ...]:
    """The feed's intervals in time order; a repeated start is an error."""
    try:
        text = body.decode("utf-8-sig").lstrip()
    except UnicodeDecodeError:
        raise BadSignal("feed is not UTF-8 text", ErrorKind.MALFORMED) from None
    if text.startswith("{"):
        try:
            feed = _Feed.model_validate_json(text)
        except ValidationError as exc:
            raise malformed("feed", exc) from None
        scale = _scale(feed.unit)
        out = [
            _interval(epoch_seconds(i.start), epoch_seconds(i.end), i.price, scale)
            for i in feed.intervals
        ]
    else:
        try:
            out = _csv(text)
        except csv.Error as exc:
            raise BadSignal(f"CSV feed: {exc}", ErrorKind.MALFORMED) from None
    out.sort(key=lambda i: i.start)
    for a, b in itertools.pairwise(out):
        if a.start == b.start:
            raise BadSignal("two prices for one interval", ErrorKind.DUPLICATE)
    return tuple(out)


def _csv(text: str) -> list[PriceInterval]:
    reader = csv.DictReader(io.StringIO(text, newline=""))
    if reader.fieldnames is None or not {"start", "end", "price"} <= set(reader.fieldnames):
        raise BadSignal("CSV feed needs the columns start,end,price", ErrorKind.MALFORMED)
    out = []
    for n, row in enumerate(reader):
        if n >= _MAX_INTERVALS:
            raise BadSignal(f"more than {_MAX_INTERVALS} intervals", ErrorKind.MALFORMED)
        try:
            start, end = (_time(row[k] or "") for k in ("start", "end"))
            price = float(row["price"] or "")
        except ValueError as exc:
            raise BadSignal(f"CSV row {n + 1}: {exc}", ErrorKind.MALFORMED) from None
        out.append(_interval(start, end, price, _scale(row.get("unit") or "USD/MWh")))
    return out


def _time(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        pass
    value = datetime.fromisoformat(text.strip())
    if value.tzinfo is None:
        raise ValueError("a time without a UTC offset")
    return value.timestamp()
