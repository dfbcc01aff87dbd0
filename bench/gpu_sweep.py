"""Telemetry sweep over simulated 8-GPU nodes: agent JSON vs dcgm-exporter text, plus writes.

    .venv/bin/python -m bench.gpu_sweep --nodes 500

A simulator process serves the nodes (``python -m simulators.gpu``, each node on its own
loopback address, agent on 9862 and dcgm-exporter on 9400). This process holds one
GpuNodeDriver per node and, after a warm-up sweep that opens the connections, times
full sweeps of every node: reads from the agent, reads from dcgm-exporter, then a
power-limit write to every node (PUT, confirmed by read-back) and a restore.
Results: bench/results/gpu_sweep.json and bench/results/gpu_sweep.md.

    .venv/bin/python -m bench.gpu_sweep --read-path --before 90c6e81

times one 8-GPU node read through the agent and driver, the code at ``--before`` against the
working tree side by side, over NVML paced as the real H200 measured, next to the H200 runs
themselves (bench/gpu_read_path.py; results bench/results/gpu_read_path.{json,md}).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from drivers.errors import DriverError
from drivers.gpu import RestoreGpuPowerLimits, SetGpuPowerLimit
from drivers.gpu.device import GpuNodeDriver
from drivers.settings import DriverSettings
from drivers.types import DeviceEndpoint

RESULTS = Path(__file__).parent / "results"
TOKEN = "bench-token"


def start_simulator(nodes: int, start: str) -> tuple[subprocess.Popen[str], list[str]]:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "simulators.gpu",
            "--nodes",
            str(nodes),
            "--start",
            start,
            "--token",
            TOKEN,
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    hosts: list[str] = []
    deadline = time.monotonic() + 120
    for line in process.stdout:
        if line.strip() == "ready":
            return process, hosts
        hosts.append(line.split()[-1])
        if time.monotonic() > deadline:
            break
    process.kill()
    raise SystemExit("the GPU simulator did not become ready")


async def sweep(
    drivers: list[GpuNodeDriver],
    op: Callable[[GpuNodeDriver], Awaitable[Any]],
    concurrency: int,
) -> dict[str, Any]:
    gate = asyncio.Semaphore(concurrency)
    latencies: list[float] = []
    failures: dict[str, int] = {}
    gpus_read = 0

    async def one(driver: GpuNodeDriver) -> None:
        nonlocal gpus_read
        async with gate:
            began = time.perf_counter()
            try:
                result = await op(driver)
            except DriverError as exc:
                failures[exc.code] = failures.get(exc.code, 0) + 1
                return
            latencies.append(time.perf_counter() - began)
            # A read must bring every GPU back with a power figure, or it does not count.
            gpus = getattr(result, "gpus", ())
            gpus_read += sum(1 for g in gpus if g.power_w is not None)

    cpu0, wall0 = time.process_time(), time.perf_counter()
    await asyncio.gather(*(one(d) for d in drivers))
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    latencies.sort()
    return {
        "wall_s": round(wall, 3),
        "cpu_ms_per_node": round(1000 * cpu / len(drivers), 3),
        "nodes_per_s": round(len(drivers) / wall, 1),
        "p50_ms": round(1000 * statistics.median(latencies), 2) if latencies else None,
        "p95_ms": round(1000 * latencies[int(0.95 * (len(latencies) - 1))], 2)
        if latencies
        else None,
        "max_ms": round(1000 * latencies[-1], 2) if latencies else None,
        "gpus_read": gpus_read,
        "failed": sum(failures.values()),
        "failures": failures,
    }


async def run(hosts: list[str], concurrency: int, repeats: int) -> dict[str, Any]:
    settings = DriverSettings(connect_timeout_s=5, read_timeout_s=10, per_device_concurrency=1)
    results: dict[str, Any] = {}
    for source in ("agent", "dcgm"):
        drivers = [
            GpuNodeDriver(DeviceEndpoint(h), token=TOKEN, source=source, settings=settings)
            for h in hosts
        ]
        try:
            await sweep(drivers, lambda d: d.read_node(), concurrency)  # warm-up: connections
            runs = [
                await sweep(drivers, lambda d: d.read_node(), concurrency) for _ in range(repeats)
            ]
            best = min(runs, key=lambda r: r["wall_s"])
            best["wall_s_all"] = [r["wall_s"] for r in runs]
            results[f"read_{source}"] = best
            if source == "agent":
                results["write_limit"] = await sweep(
                    drivers, lambda d: d.apply(SetGpuPowerLimit(watts_per_gpu=450)), concurrency
                )
                results["restore_limit"] = await sweep(
                    drivers, lambda d: d.apply(RestoreGpuPowerLimits()), concurrency
                )
        finally:
            await asyncio.gather(*(d.close() for d in drivers))
    return results


_LABELS = {
    "read_agent": "read, agent `GET /v1/node`",
    "read_dcgm": "read, dcgm-exporter `/metrics`",
    "write_limit": "write 450 W/GPU + read-back",
    "restore_limit": "restore defaults + read-back",
}


def markdown(doc: dict[str, Any]) -> str:
    rows = [
        f"| {_LABELS[name]} | {r['wall_s']} | {r['nodes_per_s']} | {r['cpu_ms_per_node']} "
        f"| {r['p50_ms']} | {r['p95_ms']} | {r['max_ms']} | {r['gpus_read'] or '-'} "
        f"| {r['failed']} |"
        for name, r in doc["results"].items()
    ]
    return "\n".join(
        [
            f"### Telemetry sweep, {doc['nodes']} simulated 8-GPU nodes ({doc['gpus']} GPUs)",
            "",
            f"Command: `{doc['command']}`",
            "",
            "One GpuNodeDriver per node, kept-alive connections, at most "
            f"{doc['concurrency']} nodes in flight; best of {doc['repeats']} read sweeps after a "
            "warm-up. The simulator runs in its own process on the same 2 cores.",
            "",
            "| operation | wall s | nodes/s | client CPU ms / node | p50 ms | p95 ms | max ms "
            "| GPUs read | failed |",
            "|---|---|---|---|---|---|---|---|---|",
            *rows,
            "",
            f"Client peak RSS: {doc['peak_rss_mb']} MB. Python {doc['python']}.",
        ]
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.gpu_sweep")
    parser.add_argument("--nodes", type=int, default=500)
    parser.add_argument("--start", default="127.65.0.1")
    parser.add_argument("--concurrency", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--read-path",
        action="store_true",
        help="instead: one node read's time, the code at --before against now (gpu_read_path)",
    )
    parser.add_argument("--before", default="90c6e81", help="git ref of the 'before' code")
    args = parser.parse_args(argv)
    if args.read_path:
        from bench.gpu_read_path import write_compare  # noqa: PLC0415

        return write_compare(args.before)
    process, hosts = start_simulator(args.nodes, args.start)
    try:
        results = asyncio.run(run(hosts, args.concurrency, args.repeats))
    finally:
        process.terminate()
        process.wait(timeout=30)
    command = ".venv/bin/python -m bench.gpu_sweep " + " ".join(
        sys.argv[1:] if argv is None else argv
    )
    doc = {
        "benchmark": "gpu_sweep",
        "command": command.strip(),
        "nodes": args.nodes,
        "gpus": 8 * args.nodes,
        "concurrency": args.concurrency,
        "repeats": args.repeats,
        "results": results,
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "python": platform.python_version(),
        "machine": platform.machine(),
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "gpu_sweep.json").write_text(json.dumps(doc, indent=2) + "\n")
    (RESULTS / "gpu_sweep.md").write_text(markdown(doc) + "\n")
    print(markdown(doc))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
