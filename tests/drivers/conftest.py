"""Fixture loading for the driver tests."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from drivers import ConfigReadError, MinerDriver, Sleep

FIXTURES = Path(__file__).parent.parent / "fixtures"
CAPTURES = FIXTURES / "captures" / "antminer" / "v2020"


def capture(name: str) -> Any:
    return json.loads((CAPTURES / name).read_text(encoding="utf-8"))


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


async def assert_unreadable_config_writes_nothing(sim: Any, driver: MinerDriver) -> None:
    """A sleep whose config read comes back garbled raises and leaves the unit as it was.

    ``sim`` is the simulated Antminer ``driver`` talks to, natively or through pyasic.
    """
    pools = sim.pools
    sim.faults.inject("malformed")
    with pytest.raises(ConfigReadError):
        await driver.apply(Sleep())
    sim.faults.clear()
    assert sim.pools == pools
    assert sim.snapshot().mode == "normal"
