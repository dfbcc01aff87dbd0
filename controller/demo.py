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
from collections.abc import Sequence
from pathlib import Path

from controller.app import Controller
from controller.errors import ConfigError
from controller.integrations.http import fleet_status
from controller.logs import configure_logging
from controller.settings import ControllerConfig, load_config

__all__ = ["main"]

UNPRIVILEGED_WEB_PORT = 10080
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


def _with_web_port(config: ControllerConfig, port: int) -> ControllerConfig:
    groups = [
        group.model_copy(update={"ports": {**group.ports, "web": port}}) for group in config.devices
    ]
    return config.model_copy(update={"devices": groups})


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


def _summary(controller: Controller, tty: bool) -> str:
    status = fleet_status(controller.fleet)
    states = ", ".join(f"{name} {count}" for name, count in status["by_state"].items())
    health = ", ".join(f"{name} {count}" for name, count in status["by_health"].items() if count)
    lines = [
        f"hashpivot demo: site {status['site']}, {status['devices']} devices, "
        f"sweep {controller.poller.stats.sweeps} ({controller.poller.stats.last_sweep_s:.2f} s)",
        f"  metrics  http://{controller.config.listen}/metrics",
        f"  states   {states or 'waiting for the first sweep'}",
        f"  health   {health}",
        f"  hashrate {status['hashrate_hs'] / 1e15:8.3f} PH/s",
        f"  power    {status['power_w'] / 1e3:8.1f} kW",
        "  Ctrl-C stops the controller and the simulator.",
    ]
    text = "\n".join(lines)
    return f"\x1b[H\x1b[2J{text}" if tty else text


async def _run(config: ControllerConfig, site: Path, speed: float, refresh_s: float) -> None:
    unprivileged = not _can_bind_port_80()
    if unprivileged:
        print(
            f"not allowed to bind port 80: the simulated web APIs use {UNPRIVILEGED_WEB_PORT}",
            flush=True,
        )
        config = _with_web_port(config, UNPRIVILEGED_WEB_PORT)
    simulator = await _start_simulator(site, speed, unprivileged)
    try:
        async with Controller(config) as controller:
            loop = asyncio.get_running_loop()
            for signum in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(signum, controller.stop_event.set)
            print(f"metrics: http://{config.listen}/metrics", flush=True)
            tty = sys.stdout.isatty()
            while not controller.stop_event.is_set():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(controller.stop_event.wait(), timeout=refresh_s)
                print(_summary(controller, tty), flush=True)
                if simulator.returncode is not None:
                    print("the simulator stopped; stopping the demo", file=sys.stderr)
                    break
    finally:
        await _stop_simulator(simulator)


def main(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="hashpivot demo",
        description="Run a simulated site (hashpivot sim) and the controller against it, "
        "with a live summary. Ctrl-C stops both.",
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
    args = parser.parse_args(argv)
    configure_logging(os.environ.get("HASHPIVOT_LOG_LEVEL", "warning"))
    site = Path(args.site)
    if not site.is_file():
        print(f"hashpivot demo: {site}: no such site file", file=sys.stderr)
        return 2
    try:
        config = load_config(args.config)
        asyncio.run(_run(config, site, args.speed, args.refresh))
    except ConfigError as exc:
        print(f"hashpivot demo: {exc}", file=sys.stderr)
        return 2
    return 0
