"""What open operator pages cost the controller: ten pages on the small site.

Runs the small simulated site (deploy/examples/site-small.yaml) and the controller
(deploy/examples/hashpivot-small.yaml, on a free port) as separate processes, then
reads the controller's CPU time from /proc over alternating windows: no page open,
then ``--pages`` pages doing what web_static/app.js does (the page and its assets
once, then the data and the chart every POLL_INTERVAL_S). The cost of the pages is
the difference, side by side in one run, as a share of one core. A fixed loop timed
in this process is the machine-speed reference.

Writes bench/results/web.json and bench/results/web.md.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp

from controller.integrations.web import POLL_INTERVAL_S

ROOT = Path(__file__).parents[1]
RESULTS = Path(__file__).parent / "results"
TICKS = os.sysconf("SC_CLK_TCK")


def cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime + stime


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def reference_s() -> float:
    """Seconds for a fixed pure-Python loop: how fast this machine is today."""
    started = time.perf_counter()
    total = 0
    for i in range(5_000_000):
        total += i * i % 7
    return time.perf_counter() - started


async def page(session: aiohttp.ClientSession, base: str, stop: asyncio.Event) -> int:
    requests = 0
    for path in ("/", "/static/app.js", "/static/app.css"):
        async with session.get(base + path) as response:
            await response.read()
            requests += 1
    while not stop.is_set():
        for path in ("/ui/v1/page", f"/ui/v1/power.svg?t={time.time()}"):
            async with session.get(base + path) as response:
                await response.read()
                requests += 1
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), POLL_INTERVAL_S)
    return requests


async def window(pid: int, base: str, pages: int, seconds: float) -> dict[str, float]:
    stop = asyncio.Event()
    async with aiohttp.ClientSession() as session:
        before, started = cpu_s(pid), time.monotonic()
        tasks = [asyncio.create_task(page(session, base, stop)) for _ in range(pages)]
        await asyncio.sleep(seconds)
        stop.set()
        requests = sum(await asyncio.gather(*tasks))
        used, elapsed = cpu_s(pid) - before, time.monotonic() - started
    return {"pages": pages, "cpu_s": used, "wall_s": elapsed, "requests": requests}


async def wait_ready(base: str) -> None:
    async with aiohttp.ClientSession() as session, asyncio.timeout(120):
        while True:
            try:
                async with session.get(base + "/api/v1/plan") as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.5)


def start(args: list[str], **kw: Any) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", *args], text=True, cwd=ROOT, **kw)


async def measure(pages: int, seconds: float, rounds: int) -> dict[str, Any]:
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="hashpivot-bench-web-") as tmp:
        config = (ROOT / "deploy/examples/hashpivot-small.yaml").read_text()
        config = config.replace("127.0.0.1:9861", f"127.0.0.1:{port}")
        config = config.replace("/tmp/hashpivot-small-journal.sqlite", f"{tmp}/journal.sqlite")
        (Path(tmp) / "hashpivot.yaml").write_text(config)
        sim = start(
            ["simulators.cli", "deploy/examples/site-small.yaml"], stdout=subprocess.DEVNULL
        )
        controller = start(
            ["controller.cli", "run", f"{tmp}/hashpivot.yaml"], stderr=subprocess.DEVNULL
        )
        try:
            base = f"http://127.0.0.1:{port}"
            await wait_ready(base)
            await asyncio.sleep(5)  # past the first sweeps and plan
            windows = []
            for _ in range(rounds):
                windows.append(await window(controller.pid, base, 0, seconds))
                windows.append(await window(controller.pid, base, pages, seconds))
        finally:
            for process in (controller, sim):
                process.terminate()
                process.wait(30)
    idle = [w for w in windows if w["pages"] == 0]
    busy = [w for w in windows if w["pages"] == pages]
    idle_share = sum(w["cpu_s"] for w in idle) / sum(w["wall_s"] for w in idle)
    busy_share = sum(w["cpu_s"] for w in busy) / sum(w["wall_s"] for w in busy)
    requests = sum(w["requests"] for w in busy)
    return {
        "pages": pages,
        "window_s": seconds,
        "rounds": rounds,
        "idle_core_share": round(idle_share, 5),
        "with_pages_core_share": round(busy_share, 5),
        "pages_core_share": round(busy_share - idle_share, 5),
        "requests": requests,
        "cpu_ms_per_request": round(
            1e3
            * (sum(w["cpu_s"] for w in busy) - idle_share * sum(w["wall_s"] for w in busy))
            / max(requests, 1),
            3,
        ),
        "windows": windows,
        "reference_loop_s": round(reference_s(), 3),
        "python": platform.python_version(),
        "machine": platform.machine(),
    }


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--pages", type=int, default=10)
    parser.add_argument("--seconds", type=float, default=30.0, help="length of each window")
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    result = asyncio.run(measure(args.pages, args.seconds, args.rounds))
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "web.json").write_text(json.dumps(result, indent=2) + "\n")
    command = (
        f"python -m bench.web --pages {args.pages} --seconds {args.seconds:g} "
        f"--rounds {args.rounds}"
    )
    pct = 100 * result["pages_core_share"]
    (RESULTS / "web.md").write_text(f"""### Operator page: {args.pages} open pages on the small site

Command: `{command}` (simulator and controller in separate processes; controller CPU from
/proc over alternating {args.seconds:g} s windows, without and with the pages; each page polls
the data and the chart every {POLL_INTERVAL_S:g} s as web_static/app.js does)

| | share of one core |
|---|---|
| controller, no page open | {100 * result["idle_core_share"]:.2f}% |
| controller, {args.pages} pages open | {100 * result["with_pages_core_share"]:.2f}% |
| **the pages' cost** | **{pct:.2f}%** (target: under 2%) |

{result["requests"]} page requests, {result["cpu_ms_per_request"]} ms of controller CPU each;
reference loop {result["reference_loop_s"]} s on this machine.
""")
    print(json.dumps({k: v for k, v in result.items() if k != "windows"}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
