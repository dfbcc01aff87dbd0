"""`hashpivot probe` identifies and reads every make with no configuration at all."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import AsyncIterator

import pytest

from simulators import Fleet, load_site_dict

SITE = {
    "site": "probe-makes",
    "devices": [
        {"make": "antminer", "model": "S21", "count": 1, "start": "127.0.75.1"},
        {"make": "whatsminer", "model": "M50S", "api": "v2", "count": 1, "start": "127.0.75.11"},
        {"make": "whatsminer", "model": "M60S", "api": "v3", "count": 1, "start": "127.0.75.21"},
        {"make": "auradine", "model": "AT1500", "count": 1, "start": "127.0.75.31"},
    ],
}
EXPECTED = {
    "127.0.75.1": ("antminer", "S21"),
    "127.0.75.11": ("whatsminer", "M50S"),
    "127.0.75.21": ("whatsminer", "M60S"),
    "127.0.75.31": ("auradine", "AT1500"),
}


@pytest.fixture
async def fleet() -> AsyncIterator[Fleet]:
    async with Fleet(load_site_dict(SITE), speed=50.0, listen="exact") as running:
        yield running


@pytest.mark.parametrize("address", sorted(EXPECTED))
async def test_probe_reads_every_make(fleet: Fleet, address: str) -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "controller.cli",
        "probe",
        address,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 0, err.decode()
    snapshot = json.loads(out)
    make, model = EXPECTED[address]
    assert snapshot["make"] == make
    assert snapshot["model"].startswith(model)
    assert snapshot["mining_state"] == "hashing"
    truth = fleet.device(address).snapshot()
    assert snapshot["hashrate_hs"] == pytest.approx(truth.hashrate_hs, rel=0.15)
    assert snapshot["power_w"] == pytest.approx(truth.power_w, rel=0.15)
    assert len(snapshot["boards"]) >= 3
