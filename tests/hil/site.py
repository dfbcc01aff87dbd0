"""A small site for the hardware-in-the-loop check: miners of two makes, a GPU node, a meter,
with the example's policy settings and one instructed event on the August 2023 spike."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from controller.backtest import Inputs, load_events, read_hashprice, read_prices
from controller.backtest.cli import data_path

_ROOT = Path(__file__).resolve().parents[2]
_EXAMPLE = yaml.safe_load((_ROOT / "deploy/examples/hashpivot-small.yaml").read_text())

# The site file's own addresses (the replay moves every device into 127.172.x.x).
PREFIX = "127.172.200"

SITE: dict[str, Any] = {
    "site": "hil",
    "devices": [
        {"make": "antminer", "model": "S19j Pro", "count": 2, "start": f"{PREFIX}.1"},
        {"make": "antminer", "model": "S21", "count": 2, "start": f"{PREFIX}.11"},
        {"make": "auradine", "model": "AT1500", "count": 2, "start": f"{PREFIX}.21"},
        {"make": "gpu", "model": "H200", "count": 1, "start": f"{PREFIX}.31"},
        {"make": "meter", "address": f"{PREFIX}.250", "base_load_w": 20000},
    ],
}

CONFIG: dict[str, Any] = {
    "site": "hil",
    "poll_interval_s": 5,
    "credentials": {
        "antminer": {"username": "root", "password": "root"},
        "auradine": {"username": "admin", "password": "admin"},
        "gpu": {"password": "hashpivot-sim"},
    },
    "devices": [
        {"make": "antminer", "start": f"{PREFIX}.1", "count": 2},
        {"make": "antminer", "start": f"{PREFIX}.11", "count": 2},
        {"make": "auradine", "start": f"{PREFIX}.21", "count": 2},
        {"make": "gpu", "address": f"{PREFIX}.31", "ai_class": "contracted"},
    ],
    # The example site's policy, grid and standing economics, unchanged.
    **{key: _EXAMPLE[key] for key in ("policy", "grid", "economics")},
    "meter": {"host": f"{PREFIX}.250", "port": 502, "interval_s": 2},
}

# ERS-10 style, on the month's highest prices: the miners must be asleep within ten
# minutes; the GPU node and the other load stay under the level.
EVENTS = {
    "events": [
        {
            "id": "ers10-hil",
            "kind": "instructed",
            "start": "2023-08-04T00:15:00Z",
            "deadline_min": 10,
            "duration_min": 60,
            "level_mw": 0.035,
            "obligation_mw": 0.015,
            "capacity_usd_per_mw_h": 60,
            "penalty_usd_per_mwh": 5000,
        }
    ]
}


def write(tmp: Path) -> tuple[Path, Path, Path]:
    """The site file, the controller config beside it, and the events file."""
    site, config, events = tmp / "site-hil.yaml", tmp / "hashpivot-hil.yaml", tmp / "events.yaml"
    site.write_text(yaml.safe_dump(SITE))
    config.write_text(yaml.safe_dump(CONFIG))
    events.write_text(yaml.safe_dump(EVENTS))
    return site, config, events


def august(events: Path) -> Inputs:
    """The shipped August 2023 prices (LZ_WEST) and day-ahead curve; the site pays the
    real-time price for all it draws (no fixed block, whose resale would swamp what the
    site's own draw costs)."""
    prices = read_prices(data_path("ercot-2023-08", "rtm_spp_15min.csv"), step_s=900.0)
    forecast = read_prices(
        data_path("ercot-2023-08", "dam_spp_hourly.csv"), step_s=3600.0, zone=prices.name
    )
    return Inputs(
        prices=prices,
        hashprice=read_hashprice("45", start=prices.start, end=prices.end),
        forecast=forecast,
        events=load_events(events, span=(prices.start, prices.end)),
    )
