"""Small sites and inputs for backtest tests, built in a temporary folder."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import yaml

from controller.backtest import (
    BacktestSite,
    Contract,
    Inputs,
    PriceSeries,
    ProgramEvent,
    load_backtest_site,
)
from controller.policy import EventKind

T0 = 1_691_038_800.0  # 2023-08-03T05:00:00Z, on a 15-minute mark
STEP = 900.0


def program_event(kind: EventKind, **changes: Any) -> ProgramEvent:
    """An event of ``kind`` from the second settlement interval to the end of the third,
    due at its start; a test states what else it needs."""
    base = ProgramEvent(
        event_id=kind.value, kind=kind, start=T0 + STEP, end=T0 + 3 * STEP, due=T0 + STEP
    )
    return dataclasses.replace(base, **changes)


def write_site(
    tmp: Path,
    devices: list[dict[str, Any]],
    *,
    base_load_w: float = 0.0,
    config: dict[str, Any] | None = None,
) -> BacktestSite:
    """A site file (and, when given, the controller config beside it), loaded."""
    entries = list(devices)
    if base_load_w:
        entries.append({"make": "meter", "address": "127.0.190.250", "base_load_w": base_load_w})
    path = tmp / "site-t.yaml"
    path.write_text(yaml.safe_dump({"site": "t", "devices": entries}))
    config_path = None
    if config is not None:
        config_path = tmp / "hashpivot-t.yaml"
        config_path.write_text(yaml.safe_dump({"site": "t", **config}))
    return load_backtest_site(path, config_path)


def inputs(
    prices: list[float],
    *,
    hashprice: float = 45.0,
    events: tuple[ProgramEvent, ...] = (),
    contract: Contract | None = None,
) -> Inputs:
    series = PriceSeries(start=T0, step_s=STEP, values=tuple(prices), name="LZ_TEST", source="test")
    end = T0 + STEP * len(prices)
    return Inputs(
        prices=series,
        hashprice=PriceSeries(
            start=T0, step_s=end - T0, values=(hashprice,), name="hashprice", source="test"
        ),
        events=events,
        contract=contract or Contract(),
    )
