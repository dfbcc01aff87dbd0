"""The fleet runner at the size of a real site: 10,000 devices in one process."""

from __future__ import annotations

import asyncio
import gc
import resource
import time

from simulators import Fleet, PortMap, load_site_dict
from tests.conftest import free_port

DEVICES = 10_000


async def _version_type(host: str, port: int) -> bytes:
    reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), 5)
    try:
        writer.write(b'{"command":"stats"}')
        await writer.drain()
        return await asyncio.wait_for(reader.read(), 5)
    finally:
        writer.close()


async def test_ten_thousand_devices_start_fast_and_small() -> None:
    site = load_site_dict(
        {
            "site": "scale",
            "devices": [
                {"make": "antminer", "model": "S21", "count": DEVICES, "start": "127.78.0.1"}
            ],
        }
    )
    ports = PortMap(rpc=free_port(), web=free_port())
    gc.collect()
    rss_before_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    async with Fleet(site, speed=60.0, listen="auto", ports=ports) as fleet:
        elapsed = time.perf_counter() - started
        rss_growth_mib = (
            resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_before_kib
        ) / 1024
        assert fleet.listen_mode == "shared"  # 20,000 exact sockets would hit the fd limit
        assert elapsed < 5.0
        assert rss_growth_mib < 1024

        # A sweep over the last thousand: each answers on its own address, as itself.
        sample = list(fleet)[-1000:]
        limit = asyncio.Semaphore(200)

        async def ask(address: str) -> bytes:
            async with limit:
                return await _version_type(address, ports.rpc)

        sweep_started = time.perf_counter()
        replies = await asyncio.gather(*(ask(d.address) for d in sample))
        assert time.perf_counter() - sweep_started < 10.0
        for device, reply in zip(sample, replies, strict=True):
            assert reply.endswith(b"\x00")
            miner_id = getattr(device, "miner_id", None)
            assert miner_id is not None
            assert f'"miner_id":"{miner_id}"'.encode() in reply
