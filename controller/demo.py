"""``hashpivot demo``: a simulated site under the controller, with a live summary.

It starts ``hashpivot sim`` as a separate process (as a real site's devices are
separate machines), runs the controller in this process against it, and redraws
a one-screen summary until Ctrl-C, when it stops both.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import socket
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from controller.app import Controller
from controller.demo_scenario import demo_config, run_scenario
from controller.errors import ConfigError
from controller.logs import configure_logging
from controller.settings import ControllerConfig, load_config

__all__ = ["main"]

# hashpivot sim --unprivileged moves these (simulators/ports.py); the controller follows.
UNPRIVILEGED_WEB_PORT = 10080
UNPRIVILEGED_MODBUS_PORT = 5020
_MODBUS_PORT = 502
_READY_TIMEOUT_S = 120.0


def _can_bind_port_80() -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", 80))
        except PermissionError:
            return False
        except OSError:
            return True  # in use, but allowed: the simulator's own bind will say if it conflicts
    return True


def _unprivileged(config: ControllerConfig) -> ControllerConfig:
    """The ports ``hashpivot sim --unprivileged`` moves: the web APIs and the meter."""
    groups = [
        group.model_copy(update={"ports": {**group.ports, "web": UNPRIVILEGED_WEB_PORT}})
        for group in config.devices
    ]
    update: dict[str, object] = {"devices": groups}
    if config.meter is not None and config.meter.port == _MODBUS_PORT:
        update["meter"] = config.meter.model_copy(update={"port": UNPRIVILEGED_MODBUS_PORT})
    return config.model_copy(update=update)


async def _start_simulator(
    site: Path, speed: float, unprivileged: bool
) -> asyncio.subprocess.Process:
    command = [sys.executable, "-m", "simulators.cli", str(site), "--speed", str(speed)]
    if unprivileged:
        command.append("--unprivileged")
    process = await asyncio.create_subprocess_exec(
        *command, stdout=asyncio.subprocess.PIPE, stderr=None, start_new_session=True
    )
    assert process.stdout is not None
    devices = 0
    async with asyncio.timeout(_READY_TIMEOUT_S):
        while line := (await process.stdout.readline()).decode().strip():
            if line == "ready":
                print(f"simulator: {devices} devices listening", flush=True)
                return process
            devices += 1
    raise ConfigError(
        f"the simulator for {site} exited before it was ready (exit status {await process.wait()})"
    )


async def _stop_simulator(process: asyncio.subprocess.Process) -> None:
    if process.returncode is None:
        process.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(process.wait(), timeout=10)
        except TimeoutError:
            process.kill()
            await process.wait()


def _states_by_make(controller: Controller) -> list[str]:
    counts: dict[str, Counter[str]] = {}
    for record in controller.fleet:
        state = record.telemetry.mining_state.value if record.telemetry else "unknown"
        counts.setdefault(record.identity.make.value, Counter())[state] += 1
    return [
        f"  {make:<10} " + ", ".join(f"{state} {n}" for state, n in sorted(states.items()))
        for make, states in sorted(counts.items())
    ]


def _summary(controller: Controller, story: list[str], tty: bool) -> str:
    status = controller.status()
    power = status["site_power"]
    plan = status["plan"]
    commands = ", ".join(f"{k} {n}" for k, n in sorted(status["commands"].items())) or "none yet"
    # The plan's limit is the devices' budget; the site's is that plus the other load.
    limit = plan["limit_w"] + plan["other_load_w"] if plan and plan["limit_w"] else None
    lines = [
        f"hashpivot demo: site {status['site']}, {status['devices']} devices, "
        f"sweep {controller.poller.stats.sweeps} ({controller.poller.stats.last_sweep_s:.2f} s)",
        f"  page     http://{controller.config.listen}/   "
        f"metrics http://{controller.config.listen}/metrics   "
        f"API http://{controller.config.listen}/api/v1/status",
        *_states_by_make(controller),
        f"  hashrate {status['hashrate_hs'] / 1e15:8.3f} PH/s",
        f"  power    {power['watts'] / 1e3:8.1f} kW by {power['source']}"
        + (f", site limit {limit / 1e3:.1f} kW" if limit else "")
        + f", other load {power['other_load_w'] / 1e3:.1f} kW",
        f"  events   {', '.join(status['events_active']) or 'none'}; "
        f"stuck {len(status['stuck'])}; commands {commands}",
    ]
    if plan:
        lines += [f"  plan     {note}" for note in plan["notes"][:3]]
    lines += [f"  story    {line}" for line in story[-4:]]
    lines.append("  Ctrl-C stops the controller and the simulator.")
    text = "\n".join(lines)
    return f"\x1b[H\x1b[2J{text}" if tty else text


async def _run(
    config: ControllerConfig, site: Path, speed: float, refresh_s: float, tell: bool
) -> None:
    unprivileged = not _can_bind_port_80()
    if unprivileged:
        print(
            f"not allowed to bind port 80: the simulated web APIs use {UNPRIVILEGED_WEB_PORT}"
            f" and the meter {UNPRIVILEGED_MODBUS_PORT}",
            flush=True,
        )
        config = _unprivileged(config)
    simulator = await _start_simulator(site, speed, unprivileged)
    story: list[str] = []
    tty = sys.stdout.isatty()

    def say(line: str) -> None:
        story.append(f"{time.strftime('%H:%M:%S')} {line}")
        if not tty:
            print(f"demo: {line}", flush=True)

    try:
        with tempfile.TemporaryDirectory(prefix="hashpivot-demo-") as tmp:
            config = demo_config(config, str(Path(tmp) / "journal.sqlite"))
            async with Controller(config) as controller:
                loop = asyncio.get_running_loop()
                for signum in (signal.SIGINT, signal.SIGTERM):
                    loop.add_signal_handler(signum, controller.stop_event.set)
                print(f"page: http://{config.listen}/ (open it in a browser)", flush=True)
                if controller.api_token is None:
                    print("page: read only; set HASHPIVOT_API_TOKEN to act from it", flush=True)
                print(f"metrics: http://{config.listen}/metrics", flush=True)
                scenario = asyncio.create_task(
                    run_scenario(controller, say) if tell else asyncio.sleep(0), name="story"
                )
                while not controller.stop_event.is_set():
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(controller.stop_event.wait(), timeout=refresh_s)
                    print(_summary(controller, story, tty), flush=True)
                    if simulator.returncode is not None:
                        print("the simulator stopped; stopping the demo", file=sys.stderr)
                        break
                scenario.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await scenario
    finally:
        await _stop_simulator(simulator)


def main(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="hashpivot demo",
        description="Run a simulated site (hashpivot sim) and the controller against it, "
        "with a live summary. Unless --no-story, it then plays a short story through the "
        "controller's API: a power-price spike (the least efficient miners sleep), the price "
        "falling back (they wake, staggered), and a grid event the site must meet within 60 s "
        "(sheds confirmed on the site meter), then the restore. Ctrl-C stops both.",
    )
    parser.add_argument(
        "config",
        nargs="?",
        default="deploy/examples/hashpivot-small.yaml",
        help="controller configuration (default: %(default)s)",
    )
    parser.add_argument(
        "--site",
        default="deploy/examples/site-small.yaml",
        help="simulated site file (default: %(default)s)",
    )
    parser.add_argument(
        "--speed",
        type=float,
        default=10.0,
        help="simulated-time speed factor (default: %(default)s)",
    )
    parser.add_argument(
        "--refresh",
        type=float,
        default=2.0,
        help="seconds between summary redraws (default: %(default)s)",
    )
    parser.add_argument(
        "--no-story",
        dest="story",
        action="store_false",
        help="only run the site and show the summary; change nothing",
    )
    args = parser.parse_args(argv)
    configure_logging(os.environ.get("HASHPIVOT_LOG_LEVEL", "warning"))
    site = Path(args.site)
    if not site.is_file():
        print(f"hashpivot demo: {site}: no such site file", file=sys.stderr)
        return 2
    try:
        config = load_config(args.config)
        asyncio.run(_run(config, site, args.speed, args.refresh, args.story))
    except ConfigError as exc:
        print(f"hashpivot demo: {exc}", file=sys.stderr)
        return 2
    return 0
