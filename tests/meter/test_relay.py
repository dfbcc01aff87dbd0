"""The simulated meter's relay contact, read by the driver's RelayContact over Modbus TCP,
and tripped and reset through the simulator's control plane."""

from __future__ import annotations

import aiohttp
import pytest

from drivers import DriverError
from drivers.meter import RelayContact
from simulators import Fleet, load_site_dict
from simulators.control import ControlPlane
from simulators.meter import SimMeter
from tests.conftest import free_port

HOST = "127.0.214.1"


@pytest.mark.parametrize(("coil", "address"), [(False, 0), (True, 0), (False, 37)])
async def test_the_contact_reads_as_the_meter_trips_and_resets(coil: bool, address: int) -> None:
    meter = SimMeter(lambda: 1000.0, address=HOST, port=free_port(HOST), relay_address=address)
    async with meter:
        contact = RelayContact(HOST, port=meter.port, coil=coil, address=address, timeout_s=1)
        other = RelayContact(HOST, port=meter.port, coil=coil, address=address + 1, timeout_s=1)
        closed = RelayContact(
            HOST, port=meter.port, coil=coil, address=address, tripped_when=False, timeout_s=1
        )
        try:
            assert await contact.read() is False
            assert await closed.read() is True
            meter.set_relay(True)
            assert await contact.read() is True
            assert await other.read() is False  # only the configured bit
            assert await closed.read() is False
            meter.set_relay(False)
            assert await contact.read() is False
        finally:
            for c in (contact, other, closed):
                await c.close()


async def test_a_dead_contact_is_a_driver_error() -> None:
    contact = RelayContact(HOST, port=free_port(HOST), timeout_s=0.3)
    with pytest.raises(DriverError):
        await contact.read()
    await contact.close()


async def test_the_control_plane_trips_and_resets_the_relay() -> None:
    address = "127.0.214.2"
    site = {
        "site": "t",
        "devices": [
            {"make": "antminer", "model": "S21", "count": 1, "start": "127.0.214.10"},
            {"make": "meter", "address": address, "port": free_port(address)},
        ],
    }
    async with Fleet(load_site_dict(site), listen="exact") as sim:
        plane = ControlPlane(sim, port=free_port())
        await plane.start()
        base = f"http://127.0.0.1:{plane.port}/meters/{address}/relay"
        try:
            async with aiohttp.ClientSession() as session:
                async with session.post(base, json={"tripped": True}) as response:
                    assert response.status == 200
                    assert (await response.json())["tripped"] is True
                assert sim.meter(address).relay_tripped
                contact = RelayContact(address, port=sim.meter(address).port, timeout_s=1)
                assert await contact.read() is True
                async with session.post(base, json={"tripped": False}) as response:
                    assert (await response.json())["tripped"] is False
                assert await contact.read() is False
                await contact.close()
                async with session.post(base, json={"tripped": "yes"}) as response:
                    assert response.status == 422
                async with session.get(base.replace(address, "127.0.214.99")) as response:
                    assert response.status == 404
        finally:
            await plane.stop()
