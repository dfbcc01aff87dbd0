"""A unit that acknowledges every write and carries out none (the ``ignore_writes`` fault).

Unlike ``ack_sleep_keep_hashing`` (the setting reads back as applied while the unit
keeps hashing), here the setting itself never changes: every driver must say so with
WriteNotApplied, within its deadlines, and leave the unit as it was.
"""

from __future__ import annotations

import time

import pytest

from drivers import Command, Control, MiningState, SetPowerTarget, Sleep, WriteNotApplied
from simulators import DeviceSnapshot
from tests.contract.conftest import SETTINGS, rig
from tests.contract.registry import CASES, Case

ids = [c.id for c in CASES]
_REQUEST_S = SETTINGS.connect_timeout_s + SETTINGS.read_timeout_s
# Reading the setting, the write, then up to three read-backs half a second apart:
# bounded by each request's own deadline, with room for a login on the way.
WRITE_BOUND_S = 6 * _REQUEST_S + SETTINGS.connect_timeout_s + SETTINGS.write_timeout_s + 2 * 0.5


def _settings(snapshot: DeviceSnapshot) -> tuple[object, ...]:
    """What a write could change: not the readings that drift with time."""
    return (snapshot.phase, snapshot.mode, snapshot.power_limit_w, snapshot.pools)


@pytest.mark.parametrize("stage", ["sleep", "power_target"])
@pytest.mark.parametrize("case", CASES, ids=ids)
async def test_ignored_write_is_write_not_applied(case: Case, stage: str) -> None:
    async with rig(case, faults=["ignore_writes"]) as r:
        await r.driver.identify()
        spec = r.driver.spec
        assert spec is not None
        command: Command = Sleep()
        if stage == "power_target":
            if not {Control.POWER_TARGET, Control.POWER_MODE} & r.driver.controls:
                pytest.skip(f"{case.id} offers neither a power target nor a power mode")
            command = SetPowerTarget(round(0.8 * spec.nameplate_w))
        before = r.sim.snapshot()
        start = time.monotonic()
        with pytest.raises(WriteNotApplied):
            await r.driver.apply(command)
        assert time.monotonic() - start < WRITE_BOUND_S
        r.fleet.clock.advance(300)
        after = r.sim.snapshot()
        assert _settings(after) == _settings(before)
        assert after.hashrate_hs > 0.5 * after.nameplate_hs
        assert (await r.driver.read()).mining_state is MiningState.HASHING
