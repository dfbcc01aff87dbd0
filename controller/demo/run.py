"""``hashpivot demo``: a simulated site under the controller, with a live summary.

It starts ``hashpivot sim`` as a separate process (as a real site's devices are
separate machines), runs the controller in this process against it, and redraws
a one-screen summary until Ctrl-C, when it stops both.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import signal
import socket
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from pydantic import SecretStr, ValidationError

from controller.app import Controller
from controller.cli.args import OneLineParser, add_log_level, fail, positive_float
from controller.clock import yield_now
from controller.config.paths import example
from controller.config.sections import ApiConfig
from controller.config.settings import ControllerConfig, load_config
from controller.demo.scenario import DEMO_SPEED, demo_config, run_scenario
from controller.demo.summary import summary
from controller.errors import ConfigError, ControllerError
from controller.logs import configure_logging

__all__ = ["main"]

_PROG = "hashpivot demo"

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


def _listen_on(config: ControllerConfig, listen: str) -> ControllerConfig:
    """The config with another listen address, checked by the config's own rule."""
    try:
        ControllerConfig.model_validate({"site": config.site, "devices": [], "listen": listen})
    except ValidationError as exc:
        errors = [e for e in exc.errors(include_url=False) if e["loc"] == ("listen",)]
        if errors:
            reason = str(errors[0]["msg"]).removeprefix("Value error, ")
            raise ConfigError(f"--listen {listen!r}: {reason}") from None
    return config.model_copy(update={"listen": listen})


def _with_token(config: ControllerConfig) -> tuple[ControllerConfig, str | None]:
    """A fresh API token for this demo, returned to be shown, so that its API accepts
    writes; or none, when the config resolves the operator's own (never printed)."""
    if config.api.resolve() is not None:
        return config, None
    token = secrets.token_urlsafe(18)
    return config.model_copy(update={"api": ApiConfig(token=SecretStr(token))}), token


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
    config, token = _with_token(config)
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
                print(f"API:     http://{config.listen}/api/v1/status", flush=True)
                if token is not None:
                    print(f"token:   export HASHPIVOT_API_TOKEN={token}", flush=True)
                else:
                    print("token:   the one the config names (not shown)", flush=True)
                scenario = asyncio.create_task(
                    run_scenario(controller, say) if tell else yield_now(), name="story"
                )
                while not controller.stop_event.is_set():
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(controller.stop_event.wait(), timeout=refresh_s)
                    text = summary(controller.read, config.listen, story, tty, token)
                    print(text, flush=True)
                    if simulator.returncode is not None:
                        print("the simulator stopped; stopping the demo", file=sys.stderr)
                        break
                scenario.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await scenario
    finally:
        await _stop_simulator(simulator)


def main(argv: Sequence[str]) -> int:
    parser = OneLineParser(
        prog="hashpivot demo",
        description="Run a simulated site (hashpivot sim) and the controller against it, "
        "with a live summary. Unless --no-story, it then plays a short story through the "
        "controller's API: a power-price spike (the least efficient miners sleep), the price "
        "falling back (they wake, staggered), and a grid event the site must meet within 30 s "
        "(sheds confirmed on the site meter), then the restore. Ctrl-C stops both.",
    )
    parser.add_argument(
        "config",
        nargs="?",
        type=Path,
        help="controller configuration (default: the example shipped with hashpivot, "
        "deploy/examples/hashpivot-small.yaml)",
    )
    parser.add_argument(
        "--site",
        type=Path,
        help="simulated site file (default: the example, deploy/examples/site-small.yaml)",
    )
    parser.add_argument(
        "--speed",
        type=positive_float,
        default=DEMO_SPEED,
        help="simulated-time speed factor (default: %(default)s)",
    )
    parser.add_argument(
        "--refresh",
        type=positive_float,
        default=2.0,
        help="seconds between summary redraws (default: %(default)s)",
    )
    parser.add_argument(
        "--no-story",
        dest="story",
        action="store_false",
        help="only run the site and show the summary; change nothing",
    )
    parser.add_argument(
        "--listen",
        metavar="HOST:PORT",
        help="serve the API and metrics here instead of the config's listen address",
    )
    add_log_level(parser, "warning")
    args = parser.parse_args(argv)
    configure_logging(os.environ.get("HASHPIVOT_LOG_LEVEL", args.log_level))
    site: Path = args.site or example("site-small.yaml")
    if not site.is_file():
        return fail(_PROG, f"{site}: no such site file", 2)
    try:
        config = load_config(args.config or example("hashpivot-small.yaml"))
        if args.listen is not None:
            config = _listen_on(config, args.listen)
        asyncio.run(_run(config, site, args.speed, args.refresh, args.story))
    except ConfigError as exc:
        return fail(_PROG, str(exc), 2)
    except ControllerError as exc:
        return fail(_PROG, str(exc), 1)
    return 0
