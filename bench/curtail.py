"""Curtailment at scale: an instructed event sheds 90% of 10,000 miners' power.

    python -m bench.curtail [--devices 10000]

A ``hashpivot sim --listen shared`` process serves the fleet (stock Antminers, with
``timings: instant`` so that the controller's own cost is measured). Then, each in its
own process, one after the other over the same fleet:

* the controller (hashpivot's daemon, in-process API): after its first sweep an event
  arrives through ``POST /api/v1/events`` asking for 10% of the miners' power. Measured
  from the event's arrival to (a) every sleep acknowledged and read back by the driver
  (``ack_s``) and (b) the drop confirmed by a telemetry read-back of every device
  (``confirmed_s``). The event is then cancelled and the fleet woken up.
* the naive baseline: pyasic 0.79.0 ``stop_mining`` gathered over every miner
  (``pyasic_ack_s``); detection is set-up and not timed; the miners are resumed after.

Writes bench/results/curtail.json and bench/results/curtail.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import resource
import tempfile
import time
from pathlib import Path
from typing import Any

from bench import simulated
from bench.simulated import RESULTS

MODELS = ("S19j Pro", "S19 XP", "S21", "S21 XP")
TOKEN = "bench"


def write_site(path: Path, devices: int, start: str) -> None:
    kinds = [{"make": "antminer", "model": model, "timings": "instant"} for model in MODELS]
    simulated.write_site(path, "curtail", kinds, devices, start)


def _raise_fd_limit() -> None:
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


# ---- the controller's side (a child process) ------------------------------------------


async def controller_run(devices: int, start: str, concurrency: int) -> dict[str, Any]:
    import aiohttp  # noqa: PLC0415

    from controller.app import Controller  # noqa: PLC0415
    from controller.config.settings import parse_config  # noqa: PLC0415
    from drivers import MiningState  # noqa: PLC0415
    from tests.conftest import free_port  # noqa: PLC0415

    port = free_port()
    with tempfile.TemporaryDirectory() as tmp:
        config = parse_config(
            {
                "site": "curtail",
                "listen": f"127.0.0.1:{port}",
                "poll_interval_s": 600,
                "poll_timeout_s": 60,
                "concurrency": 1000,
                "devices": [{"make": "antminer", "start": start, "count": devices}],
                "control": {
                    "concurrency": concurrency,
                    "command_timeout_s": 60,
                    "confirm_after_s": 60,
                },
                "policy": {"wake_stagger_s": 0, "min_on_dwell_s": 0, "min_off_dwell_s": 0},
                "grid": {"interconnect_cap_mw": 1000},
                "journal": {"path": str(Path(tmp) / "journal.sqlite")},
                "api": {"token": TOKEN},
                # One kept-alive connection per device: 10,000 devices stay within 20,000
                # descriptors.
                "drivers": {"per_device_concurrency": 1},
            }
        )
        async with Controller(config) as controller:
            loop, fleet = controller.loop, controller.fleet
            warm0 = time.perf_counter()
            while loop.view is None:  # noqa: ASYNC110 - the bench polls counters
                await asyncio.sleep(0.05)
            warm_s = time.perf_counter() - warm0
            _, site_w = fleet.totals()
            level_w = 0.10 * site_w
            url = f"http://127.0.0.1:{port}/api/v1/events"
            body = {"kind": "instructed", "level_mw": level_w / 1e6, "within_s": 600}
            headers = {"Authorization": f"Bearer {TOKEN}"}
            async with aiohttp.ClientSession() as http:
                t0 = time.perf_counter()
                async with http.post(url, json=body, headers=headers) as response:
                    event = await response.json()
                    assert response.status == 201, event
                await asyncio.sleep(0.05)
                await loop.dispatcher.idle()
                ack_s = time.perf_counter() - t0
                shed = loop.stats.results["applied"]
                while loop.stats.confirmed < shed:  # noqa: ASYNC110
                    await asyncio.sleep(0.02)
                confirmed_s = time.perf_counter() - t0
                _, after_w = fleet.totals()
                asleep = sum(
                    1
                    for r in fleet
                    if r.telemetry and r.telemetry.mining_state is MiningState.SLEEPING
                )
                async with http.delete(f"{url}/{event['event_id']}", headers=headers) as response:
                    assert response.status == 200
                while loop.stats.results["applied"] < 2 * shed:  # noqa: ASYNC110 - woken for the baseline
                    await asyncio.sleep(0.1)
                await loop.dispatcher.idle()
            failed = sum(n for k, n in loop.stats.results.items() if k != "applied")
    return {
        "devices": devices,
        "warm_s": round(warm_s, 2),
        "shed": shed,
        "asleep_after": asleep,
        "site_w_before": round(site_w),
        "site_w_after": round(after_w),
        "level_w": round(level_w),
        "ack_s": round(ack_s, 3),
        "confirmed_s": round(confirmed_s, 3),
        "failed": failed,
        "peak_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


# ---- the baseline (a child process) ---------------------------------------------------


async def pyasic_run(devices: int, start: str) -> dict[str, Any]:
    import ipaddress  # noqa: PLC0415

    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    import pyasic  # noqa: PLC0415 - it reconfigures the root logger on import

    root.handlers[:], root.level = handlers, level
    first = ipaddress.ip_address(start)
    hosts = [str(first + i) for i in range(devices)]
    pace = asyncio.Semaphore(64)  # detection is set-up; pyasic's 3 s timeout needs pacing

    async def detect(host: str) -> Any:
        async with pace:
            return await pyasic.get_miner(host)

    miners = [m for m in await asyncio.gather(*(detect(h) for h in hosts)) if m is not None]
    t0 = time.perf_counter()
    results = await asyncio.gather(*(m.stop_mining() for m in miners), return_exceptions=True)
    ack_s = time.perf_counter() - t0
    ok = sum(1 for r in results if r is True)
    await asyncio.gather(*(m.resume_mining() for m in miners), return_exceptions=True)
    return {"detected": len(miners), "stopped": ok, "pyasic_ack_s": round(ack_s, 3)}


def child(part: str, devices: int, start: str, concurrency: int) -> dict[str, Any]:
    flags = ["--part", part, "--devices", str(devices), "--start", start]
    flags += ["--concurrency", str(concurrency)]
    return simulated.run_json("bench.curtail", *flags, timeout_s=900)


def main() -> int:
    parser = simulated.fleet_parser(__doc__, devices=10_000, start="127.30.0.1")
    parser.add_argument("--concurrency", type=int, default=1000, help="commands in flight")
    parser.add_argument("--part", choices=["controller", "pyasic"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    _raise_fd_limit()
    if args.part == "controller":
        result = asyncio.run(controller_run(args.devices, args.start, args.concurrency))
        print(json.dumps(result))
        return 0
    if args.part == "pyasic":
        print(json.dumps(asyncio.run(pyasic_run(args.devices, args.start))))
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        site = Path(tmp, "site.yaml")
        write_site(site, args.devices, args.start)
        with simulated.simulator(site, "--listen", "shared", stop_within_s=60):
            ours = child("controller", args.devices, args.start, args.concurrency)
            theirs = child("pyasic", args.devices, args.start, args.concurrency)
    result = {
        "devices": args.devices,
        "ack_s": ours["ack_s"],
        "confirmed_s": ours["confirmed_s"],
        "pyasic_ack_s": theirs["pyasic_ack_s"],
        "ratio": round(theirs["pyasic_ack_s"] / max(ours["ack_s"], 1e-9), 2),
        "peak_mb": ours["peak_mb"],
        "controller": ours,
        "pyasic": theirs,
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "curtail.json").write_text(json.dumps(result, indent=2) + "\n")
    n = args.devices
    table = (
        f"### Curtailment at scale, {n:,} simulated Antminers\n\n"
        f"Command: `python -m bench.curtail --devices {n}` (simulator in a separate "
        "`hashpivot sim --listen shared` process, `timings: instant`; an instructed event "
        "asks for 10% of the miners' power)\n\n"
        "| | seconds |\n|---|---|\n"
        f"| hashpivot: event arrival to every sleep acknowledged and read back | "
        f"{result['ack_s']} |\n"
        f"| hashpivot: event arrival to the drop confirmed by telemetry read-back | "
        f"{result['confirmed_s']} |\n"
        f"| pyasic 0.79.0 `stop_mining` gathered (acknowledged only) | "
        f"{result['pyasic_ack_s']} |\n\n"
        f"Ratio (pyasic / hashpivot, acknowledged): **{result['ratio']}x**; controller peak "
        f"RSS {result['peak_mb']} MB; {ours['shed']} shed, {ours['asleep_after']} read back "
        f"asleep, {ours['failed']} failed; pyasic stopped {theirs['stopped']} of "
        f"{theirs['detected']} detected.\n"
    )
    (RESULTS / "curtail.md").write_text(table)
    print(table)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
