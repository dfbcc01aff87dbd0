"""The fleet runner: exact and shared listening, dispatch by local address, the Python API."""

from __future__ import annotations

import asyncio
import json

import pytest

from simulators import Fleet, PortMap, load_site_dict
from simulators.errors import UnknownDeviceError
from tests.simulators.conftest import rpc_json, rpc_raw

# Off the standard ports: a wildcard listener on 80/4028 would stand in the way of
# other test modules' exact fleets.
SHARED_PORTS = PortMap(rpc=24028, web=20080)
MODELS = ("S19j Pro", "S19 XP", "S21", "S21 XP")


def mixed_site(name: str, first_octets: str, per_model: int) -> dict[str, object]:
    return {
        "site": name,
        "devices": [
            {
                "make": "antminer",
                "model": model,
                "count": per_model,
                "start": f"{first_octets}.{1 + i * per_model}",
            }
            for i, model in enumerate(MODELS)
        ],
    }


async def test_python_api(tmp_path: object) -> None:
    site = load_site_dict(
        {
            "site": "t",
            "devices": [{"make": "antminer", "model": "S21", "count": 2, "start": "127.77.5.1"}],
        }
    )
    async with Fleet(site, speed=60.0, listen="exact", ports=PortMap()) as fleet:
        assert [d.address for d in fleet.devices] == ["127.77.5.1", "127.77.5.2"]
        device = fleet.device("127.77.5.2")
        assert (device.address, device.make, device.model) == ("127.77.5.2", "antminer", "S21")
        snapshot = device.snapshot()
        assert snapshot.phase == "running"
        assert snapshot.power_w > 3000
        assert snapshot.hashrate_hs > 190e12
        assert len(device.pools) == 3
        with pytest.raises(UnknownDeviceError):
            fleet.device("127.77.5.99")
        assert (await rpc_json("127.77.5.1", "version"))["VERSION"][0]["Type"] == "Antminer S21"
    # Stopped: nothing listens any more.
    with pytest.raises(OSError):
        await rpc_raw("127.77.5.1", b'{"command":"version"}', limit_s=1)


async def test_shared_mode_dispatches_by_local_address() -> None:
    site = load_site_dict(mixed_site("shared", "127.77.6", per_model=75))  # 300 devices
    async with Fleet(site, speed=60.0, listen="shared", ports=SHARED_PORTS) as fleet:
        assert len(fleet.devices) == 300
        limit = asyncio.Semaphore(50)

        async def model_at(address: str) -> str:
            async with limit:
                reply = await rpc_json(address, "version", port=SHARED_PORTS.rpc)
                return str(reply["VERSION"][0]["Type"])

        types = await asyncio.gather(*(model_at(d.address) for d in fleet.devices))
        assert types == [f"Antminer {d.model}" for d in fleet.devices]

        # An address no device owns is closed at once, without a reply.
        try:
            raw = await rpc_raw("127.77.99.1", b'{"command":"version"}', port=SHARED_PORTS.rpc)
        except (ConnectionError, OSError):
            raw = b""
        assert raw == b""


async def test_shared_mode_web_dispatch() -> None:
    site = load_site_dict(mixed_site("shared-web", "127.77.8", per_model=2))
    async with Fleet(site, speed=60.0, listen="shared", ports=SHARED_PORTS):
        reader, writer = await asyncio.open_connection("127.77.8.3", SHARED_PORTS.web)
        writer.write(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 2)
        writer.close()
        assert head.startswith(b"HTTP/1.1 401")
        assert b'realm="antMiner Configuration"' in head


async def test_two_exact_fleets_coexist() -> None:
    one = load_site_dict(
        {"site": "one", "devices": [{"make": "antminer", "model": "S21", "start": "127.77.9.1"}]}
    )
    two = load_site_dict(
        {"site": "two", "devices": [{"make": "antminer", "model": "S19 XP", "start": "127.77.9.2"}]}
    )
    async with Fleet(one, listen="exact") as first, Fleet(two, listen="auto") as second:
        assert first.device("127.77.9.1").model == "S21"
        assert second.device("127.77.9.2").model == "S19 XP"
        reply = json.loads((await rpc_raw("127.77.9.2", b'{"command":"version"}'))[:-1])
        assert reply["VERSION"][0]["Type"] == "Antminer S19 XP"
