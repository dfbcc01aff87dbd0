"""One client's side of the sweep benchmark, run in its own process.

``python -m bench.sweep_client {hashpivot|pyasic} HOSTS_FILE`` reads one address per
line, prepares every device (detection, connections), then times one telemetry
sweep over all of them and prints one JSON line: wall seconds, CPU seconds of
this process, peak RSS, and how many devices answered.
"""

from __future__ import annotations

import asyncio
import json
import logging
import resource
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any


async def _timed_sweep(reads: list[Callable[[], Awaitable[Any]]]) -> dict[str, Any]:
    cpu0, wall0 = time.process_time(), time.perf_counter()
    results = await asyncio.gather(*(read() for read in reads), return_exceptions=True)
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    failures = [r for r in results if isinstance(r, BaseException) or r is None]
    return {
        "wall_s": wall,
        "cpu_s": cpu,
        "ok": len(results) - len(failures),
        "failed": len(failures),
        "first_failure": repr(failures[0]) if failures else None,
    }


def _split(lines: list[str]) -> list[tuple[str, str]]:
    pairs = []
    for line in lines:
        host, _, make = line.partition(" ")
        pairs.append((host, make.strip() or "antminer"))
    return pairs


async def hashpivot(hosts: list[str]) -> dict[str, Any]:
    from drivers import DeviceEndpoint, Make, open_driver  # noqa: PLC0415

    # A host line may name the make ("127.10.0.1 whatsminer"); plain lines are Antminers.
    drivers = [open_driver(Make(make), DeviceEndpoint(host)) for host, make in _split(hosts)]
    await asyncio.gather(*(driver.identify() for driver in drivers), return_exceptions=True)
    await _timed_sweep([driver.read for driver in drivers])  # warm: sessions and digest nonces
    result = await _timed_sweep([driver.read for driver in drivers])
    await asyncio.gather(*(driver.close() for driver in drivers), return_exceptions=True)
    return result


async def pyasic_client(hosts: list[str]) -> dict[str, Any]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    import pyasic  # noqa: PLC0415 - it reconfigures the root logger on import
    from pyasic.miners.data import DataOptions  # noqa: PLC0415

    root.handlers[:], root.level = handlers, level
    include = [
        DataOptions.HASHRATE,
        DataOptions.EXPECTED_HASHRATE,
        DataOptions.FANS,
        DataOptions.HASHBOARDS,
        DataOptions.UPTIME,
        DataOptions.IS_MINING,
        DataOptions.ERRORS,
        DataOptions.WATTAGE,
    ]
    # Detection is set-up, not the measured sweep; pyasic's 3 s detection timeout needs it paced.
    pace = asyncio.Semaphore(64)

    async def detect(host: str) -> Any:
        async with pace:
            return await pyasic.get_miner(host)

    miners = await asyncio.gather(*(detect(host) for host, _ in _split(hosts)))
    found = [miner for miner in miners if miner is not None]

    def reader(miner: Any) -> Callable[[], Awaitable[Any]]:
        return lambda: miner.get_data(include=include)

    await _timed_sweep([reader(miner) for miner in found])
    result = await _timed_sweep([reader(miner) for miner in found])
    result["failed"] += len(hosts) - len(found)
    return result


def main() -> int:
    client, hosts_file = sys.argv[1], sys.argv[2]
    hosts = [line.strip() for line in open(hosts_file, encoding="utf-8") if line.strip()]  # noqa: SIM115
    run = {"hashpivot": hashpivot, "pyasic": pyasic_client}[client]
    result = asyncio.run(run(hosts))
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    result["client"] = client
    result["devices"] = len(hosts)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
