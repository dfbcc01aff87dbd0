"""Serve N simulated GPU nodes on consecutive loopback addresses, without a site file.

```python
async with GpuNodeFleet(4, start="127.64.0.1", speed=60) as sim:
    sim.nodes[0].stop_job()
```

Each node listens on its own address on the agent port (9862) and the dcgm-exporter
port (9400), one socket per address and port (``exact`` listening, so several runs
can share a host on different 127.x ranges). Also ``python -m simulators.gpu``.
"""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import logging
import signal
import sys
from collections.abc import Sequence

from simulators.clock import SimClock
from simulators.errors import SimulatorError, SiteError
from simulators.gpu.device import GpuNodeDevice, GpuNodeOptions
from simulators.gpu.models import lookup_gpu_model
from simulators.netserve import DeviceServer, Served

__all__ = ["GpuNodeFleet", "main"]

_LOOPBACK = ipaddress.IPv4Network("127.0.0.0/8")


def loopback_range(start: str, count: int) -> list[str]:
    first = ipaddress.IPv4Address(start)
    last = ipaddress.IPv4Address(int(first) + count - 1)
    if first not in _LOOPBACK or last not in _LOOPBACK:
        raise SiteError(f"{count} addresses from {start} leave 127.0.0.0/8", field="start")
    return [str(first + i) for i in range(count)]


class GpuNodeFleet(Served):
    """``count`` nodes of one model, one simulated clock, served until stopped."""

    def __init__(
        self,
        count: int,
        *,
        model: str = "H200",
        start: str = "127.64.0.1",
        speed: float = 1.0,
        clock: SimClock | None = None,
        options: GpuNodeOptions | None = None,
        seed: int = 0,
    ) -> None:
        self.clock = clock or SimClock(speed)
        spec = lookup_gpu_model(model)
        self.nodes = [
            GpuNodeDevice(address, spec, self.clock, options=options, seed=seed)
            for address in loopback_range(start, count)
        ]
        self._server = DeviceServer({node.address: node for node in self.nodes})

    def node(self, address: str) -> GpuNodeDevice:
        for node in self.nodes:
            if node.address == address:
                return node
        raise KeyError(address)

    async def start(self) -> None:
        await self._server.start("exact")

    async def stop(self) -> None:
        await self._server.close()


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m simulators.gpu",
        description="Serve simulated 8-GPU nodes (agent API on 9862, dcgm-exporter on 9400).",
    )
    parser.add_argument("--nodes", type=int, default=4)
    parser.add_argument("--model", default="H200", help="H100 or H200")
    parser.add_argument("--start", default="127.64.0.1", help="first loopback address")
    parser.add_argument("--speed", type=float, default=1.0, help="simulated seconds per second")
    parser.add_argument("--load", type=float, default=0.95, help="job load at start, 0-1")
    parser.add_argument("--token", default="hashpivot-sim", help="the agents' bearer token")
    parser.add_argument("--log-level", default="WARNING")
    return parser


async def _serve(args: argparse.Namespace) -> None:
    options = GpuNodeOptions(load=args.load, token=args.token)
    sim = GpuNodeFleet(
        args.nodes, model=args.model, start=args.start, speed=args.speed, options=options
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with sim:
        for node in sim.nodes:
            print(f"{node.make} {node.model} {node.address}")
        print("ready", flush=True)
        await stop.wait()


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=args.log_level.upper())
    try:
        asyncio.run(_serve(args))
    except (SimulatorError, KeyError) as exc:
        print(f"simulators.gpu: {exc}", file=sys.stderr)
        return 2
    return 0
