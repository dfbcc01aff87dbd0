"""ERCOT settlement point prices in ERCOT's own report shapes.

- Real time, NP6-905-CD: DeliveryDate, DeliveryHour (1-24, hour ending), DeliveryInterval
  (1-4), SettlementPointName, SettlementPointType, SettlementPointPrice, DSTFlag. The
  interval starts at date + (hour - 1) h + (interval - 1) x 15 min, Central Prevailing Time.
- Day ahead, NP4-190-CD: DeliveryDate, HourEnding ("01:00".."24:00"), SettlementPoint,
  SettlementPointPrice, DSTFlag; the hour starts at HourEnding - 1.

Both are read as the public API answers (JSON: ``fields`` names the columns of ``data``)
or as the report's CSV. On the autumn day the clocks go back, hour ending 02 comes twice
and the second (standard time) copy has DSTFlag ``Y``. Prices are USD/MWh.
See docs/signals.md for the sources of these facts.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from controller.signals.errors import BadSignal, ErrorKind
from controller.signals.updates import PriceInterval

__all__ = ["CPT", "Report", "delivery_dates", "parse_day_ahead", "parse_real_time", "report_rows"]

CPT = ZoneInfo("America/Chicago")
_DATE_ISO = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
_DATE_US = re.compile(r"^(\d{2})/(\d{2})/(\d{4})$")
_HOUR_ENDING = re.compile(r"^(\d{1,2})(?::00)?$")


@dataclass(frozen=True, slots=True, kw_only=True)
class Report:
    """A parsed report: the point's intervals in time order, and rows that did not parse."""

    intervals: tuple[PriceInterval, ...]
    bad_rows: int
    first_error: str | None
    pages: int = 1  # pages the API says the answer has


def _key(name: str) -> str:
    return re.sub(r"[^a-z]", "", name.lower())


def report_rows(body: bytes) -> tuple[list[dict[str, str]], int]:
    """Rows as {normalised column: text}, from API JSON or CSV; and the API's page count."""
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise BadSignal("report is not UTF-8 text", ErrorKind.MALFORMED) from None
    stripped = text.lstrip()
    if not stripped:
        raise BadSignal("empty report", ErrorKind.MALFORMED)
    if stripped[0] in "{[":
        return _json_rows(stripped)
    try:
        reader = csv.reader(io.StringIO(stripped, newline=""))
        header = next(reader, None)
        if not header:
            raise BadSignal("CSV report without a header", ErrorKind.MALFORMED)
        keys = [_key(h) for h in header]
        rows = [dict(zip(keys, (c.strip() for c in row), strict=False)) for row in reader if row]
    except csv.Error as exc:
        raise BadSignal(f"CSV report: {exc}", ErrorKind.MALFORMED) from None
    return rows, 1


def _json_rows(text: str) -> tuple[list[dict[str, str]], int]:
    try:
        doc = json.loads(text)
    except (json.JSONDecodeError, RecursionError):
        raise BadSignal("report is not valid JSON", ErrorKind.MALFORMED) from None
    if not isinstance(doc, Mapping) or not isinstance(doc.get("data"), list):
        raise BadSignal("JSON report without a data list", ErrorKind.MALFORMED)
    fields = doc.get("fields")
    names: list[str] = []
    if isinstance(fields, list):
        names = [_key(str(f.get("name", ""))) if isinstance(f, Mapping) else "" for f in fields]
    pages = 1
    meta = doc.get("_meta")
    if isinstance(meta, Mapping) and isinstance(meta.get("totalPages"), int):
        pages = max(1, min(int(meta["totalPages"]), 1000))
    rows: list[dict[str, str]] = []
    for item in doc["data"]:
        if isinstance(item, list):
            rows.append({n: _text(v) for n, v in zip(names, item, strict=False)})
        elif isinstance(item, Mapping):
            rows.append({_key(str(k)): _text(v) for k, v in item.items()})
        else:
            rows.append({})
    return rows, pages


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "Y" if value else "N"
    return "" if value is None else str(value).strip()


def _date(text: str) -> date:
    if m := _DATE_ISO.match(text):
        return date(int(m[1]), int(m[2]), int(m[3]))
    if m := _DATE_US.match(text):
        return date(int(m[3]), int(m[1]), int(m[2]))
    raise ValueError(f"delivery date {text[:20]!r}")


def _price(text: str) -> float:
    price = float(text)
    if not math.isfinite(price):
        raise ValueError("price is not a number")
    return price


def _dst(text: str) -> int:
    flag = text.upper()
    if flag in {"", "N", "FALSE"}:
        return 0
    if flag in {"Y", "TRUE"}:
        return 1
    raise ValueError(f"DSTFlag {text[:10]!r}")


def _at(day: date, minutes: int, fold: int) -> float:
    local = datetime(day.year, day.month, day.day) + timedelta(minutes=minutes)
    return local.replace(tzinfo=CPT, fold=fold).timestamp()


def _point_of(row: Mapping[str, str]) -> str:
    return row.get("settlementpointname") or row.get("settlementpoint") or ""


def _collect(rows: Iterable[Mapping[str, str]], point: str, interval_of: Any, pages: int) -> Report:
    by_start: dict[float, PriceInterval] = {}
    bad, first = 0, None
    for row in rows:
        if _point_of(row) != point:
            continue
        try:
            interval = interval_of(row)
        except (ValueError, KeyError, OverflowError) as exc:
            bad += 1
            first = first or f"row {dict(row)!r:.200}: {exc}"
            continue
        seen = by_start.get(interval.start)
        if seen is not None and seen != interval:
            bad += 1
            first = first or f"two prices for the interval at {interval.start:.0f}"
            continue
        by_start[interval.start] = interval
    ordered = tuple(by_start[k] for k in sorted(by_start))
    return Report(intervals=ordered, bad_rows=bad, first_error=first, pages=pages)


def _real_time_interval(row: Mapping[str, str]) -> PriceInterval:
    hour, interval = int(row["deliveryhour"]), int(row["deliveryinterval"])
    if not (1 <= hour <= 24 and 1 <= interval <= 4):
        raise ValueError(f"hour {hour} interval {interval}")
    start = _at(
        _date(row["deliverydate"]),
        (hour - 1) * 60 + (interval - 1) * 15,
        _dst(row.get("dstflag", "")),
    )
    return PriceInterval(
        start=start, end=start + 900, usd_per_mwh=_price(row["settlementpointprice"])
    )


def _day_ahead_interval(row: Mapping[str, str]) -> PriceInterval:
    m = _HOUR_ENDING.match(row["hourending"])
    if m is None or not 1 <= int(m[1]) <= 24:
        raise ValueError(f"hour ending {row['hourending'][:10]!r}")
    start = _at(_date(row["deliverydate"]), (int(m[1]) - 1) * 60, _dst(row.get("dstflag", "")))
    return PriceInterval(
        start=start, end=start + 3600, usd_per_mwh=_price(row["settlementpointprice"])
    )


def parse_real_time(body: bytes, settlement_point: str) -> Report:
    """NP6-905-CD rows for one settlement point."""
    rows, pages = report_rows(body)
    return _collect(rows, settlement_point, _real_time_interval, pages)


def parse_day_ahead(body: bytes, settlement_point: str) -> Report:
    """NP4-190-CD rows for one settlement point."""
    rows, pages = report_rows(body)
    return _collect(rows, settlement_point, _day_ahead_interval, pages)


def delivery_dates(now: float, back_days: int, ahead_days: int) -> Sequence[str]:
    """(from, to) delivery dates around ``now`` in Central Prevailing Time, yyyy-MM-dd."""
    today = datetime.fromtimestamp(now, CPT).date()
    return (
        (today - timedelta(days=back_days)).isoformat(),
        (today + timedelta(days=ahead_days)).isoformat(),
    )
