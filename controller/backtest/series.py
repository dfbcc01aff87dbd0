"""Time series inputs: real-time and day-ahead prices, and hashprice.

The price files are ERCOT settlement point prices as shipped in ``data/`` (columns
``interval_start_utc``, ``settlement_point``, ``price_usd_per_mwh``); a file without
``settlement_point`` is one zone. Rows may come in any order; per zone the series
must be regular (15 minutes for real time, an hour for day ahead), without gaps.
"""

from __future__ import annotations

import csv
import itertools
import math
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from controller.backtest.errors import BacktestError

__all__ = [
    "DEFAULT_ZONE",
    "PriceSeries",
    "read_hashprice",
    "read_prices",
    "utc_seconds",
]

DEFAULT_ZONE = "LZ_WEST"  # where most Texas mines sit
_TIME, _ZONE, _PRICE = "interval_start_utc", "settlement_point", "price_usd_per_mwh"
_HASHPRICE = "hashprice_usd_per_ph_day"


def utc_seconds(text: str) -> float:
    """ISO 8601 with an explicit zone (``Z`` or an offset) -> unix seconds; ValueError else."""
    parsed = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        raise ValueError("no time zone")
    return parsed.timestamp()


def iso(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True, slots=True, kw_only=True)
class PriceSeries:
    """A regular series: ``values[i]`` holds on ``[start + i*step_s, start + (i+1)*step_s)``."""

    start: float
    step_s: float
    values: tuple[float, ...]
    name: str  # zone, or what the values are
    source: str

    @property
    def end(self) -> float:
        return self.start + self.step_s * len(self.values)

    def index(self, t: float) -> int:
        return min(len(self.values) - 1, max(0, int((t - self.start) // self.step_s)))

    def at(self, t: float) -> float:
        return self.values[self.index(t)]

    def covers(self, t: float) -> bool:
        return self.start <= t < self.end


def _number(text: str, where: tuple[str, int], field: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise BacktestError(
            f"not a number: {text.strip()[:40]!r}", file=where[0], line=where[1], field=field
        )
    return value


def _rows(path: Path, required: tuple[str, ...]) -> tuple[list[str], list[tuple[int, list[str]]]]:
    name = str(path)
    try:
        handle = path.open(newline="", encoding="utf-8")
    except OSError as exc:
        raise BacktestError(f"cannot read: {exc.strerror}", file=name) from None
    with handle:
        try:
            reader = csv.reader(handle)
            header = [h.strip() for h in next(reader, [])]
            rows = [(reader.line_num, row) for row in reader if any(c.strip() for c in row)]
        except (csv.Error, UnicodeDecodeError) as exc:
            raise BacktestError(f"not a readable CSV file ({exc})", file=name) from None
    for column in required:
        if column not in header:
            raise BacktestError(
                f"missing column (the header has {', '.join(header) or 'nothing'})",
                file=name,
                line=1,
                field=column,
            )
    return header, rows


def read_prices(path: Path, *, step_s: float, zone: str | None = None) -> PriceSeries:
    """One zone's prices from ``path``; ``zone`` None picks the only zone or LZ_WEST."""
    name = str(path)
    header, rows = _rows(path, (_TIME, _PRICE))
    it, ip = header.index(_TIME), header.index(_PRICE)
    iz = header.index(_ZONE) if _ZONE in header else None
    by_zone: dict[str, list[tuple[float, float, int]]] = {}
    for line, row in rows:
        if len(row) < len(header):
            raise BacktestError(
                f"{len(row)} fields, the header has {len(header)}", file=name, line=line
            )
        try:
            t = utc_seconds(row[it])
        except ValueError:
            raise BacktestError(
                f"not an ISO 8601 UTC time: {row[it][:40]!r}", file=name, line=line, field=_TIME
            ) from None
        price = _number(row[ip], (name, line), _PRICE)
        by_zone.setdefault(row[iz].strip() if iz is not None else "", []).append((t, price, line))
    if not by_zone:
        raise BacktestError("no price rows", file=name, line=2)
    if zone is None:
        zone = next(iter(by_zone)) if len(by_zone) == 1 else DEFAULT_ZONE
    if zone not in by_zone:
        raise BacktestError(
            f"no rows for zone {zone!r} (the file has {', '.join(sorted(by_zone))})",
            file=name,
            field=_ZONE,
        )
    points = sorted(by_zone[zone])
    for (t0, _, line0), (t1, _, line1) in itertools.pairwise(points):
        if t1 - t0 != step_s:
            what = "a repeated interval" if t1 == t0 else f"a gap from {iso(t0)} to {iso(t1)}"
            raise BacktestError(
                f"{what} in {zone or 'the'} series (expected every {step_s / 60:g} min)",
                file=name,
                line=max(line0, line1),
                field=_TIME,
            )
    if points[0][0] % step_s:
        raise BacktestError(
            f"intervals must start on the {step_s / 60:g}-minute mark",
            file=name,
            line=points[0][2],
            field=_TIME,
        )
    return PriceSeries(
        start=points[0][0],
        step_s=step_s,
        values=tuple(p for _, p, _ in points),
        name=zone,
        source=name,
    )


def read_hashprice(value: str, *, start: float, end: float) -> PriceSeries:
    """``--hashprice``: a number (USD/PH/day, constant) or a CSV of ``interval_start_utc``,
    ``hashprice_usd_per_ph_day`` (any regular step; the first row must not start after
    ``start`` and the series must reach ``end``)."""
    try:
        constant = float(value)
    except ValueError:
        constant = math.nan
    if math.isfinite(constant):
        if constant < 0:
            raise BacktestError("hashprice must be >= 0", field="--hashprice")
        return PriceSeries(
            start=start,
            step_s=end - start,
            values=(constant,),
            name="hashprice",
            source="--hashprice",
        )
    path = Path(value)
    if not path.exists():
        raise BacktestError("neither a number nor a readable file", file=value, field="--hashprice")
    header, rows = _rows(path, (_TIME, _HASHPRICE))
    it, ih = header.index(_TIME), header.index(_HASHPRICE)
    points: list[tuple[float, float, int]] = []
    for line, row in rows:
        try:
            t = utc_seconds(row[it])
        except (ValueError, IndexError):
            raise BacktestError(
                "not an ISO 8601 UTC time", file=value, line=line, field=_TIME
            ) from None
        price = _number(row[ih] if ih < len(row) else "", (value, line), _HASHPRICE)
        if price < 0:
            raise BacktestError("hashprice must be >= 0", file=value, line=line, field=_HASHPRICE)
        points.append((t, price, line))
    if not points:
        raise BacktestError("no rows", file=value, line=2)
    points.sort()
    step = points[1][0] - points[0][0] if len(points) > 1 else end - points[0][0]
    for (t0, _, _), (t1, _, line) in itertools.pairwise(points):
        if t1 - t0 != step:
            raise BacktestError(
                f"irregular step (expected {step:g} s)", file=value, line=line, field=_TIME
            )
    series = PriceSeries(
        start=points[0][0],
        step_s=step,
        values=tuple(p for _, p, _ in points),
        name="hashprice",
        source=value,
    )
    if series.start > start or series.end < end:
        raise BacktestError(
            f"covers {iso(series.start)}..{iso(series.end)}, not the prices' "
            f"{iso(start)}..{iso(end)}",
            file=value,
            field=_TIME,
        )
    return series
