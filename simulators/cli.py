"""``hashpivot sim``: run a simulated site from a site file until SIGINT/SIGTERM."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
import textwrap
from collections.abc import Sequence
from typing import NoReturn

from simulators.control import ControlPlane
from simulators.errors import SimulatorError
from simulators.fleet import Fleet
from simulators.ports import UNPRIVILEGED_MODBUS_PORT, UNPRIVILEGED_WEB_PORT, PortMap
from simulators.registry import sim_specs
from simulators.site import load_site

__all__ = ["main"]

_DESCRIPTION = """\
Run a simulated site from a site file: real servers on real loopback sockets, which
unmodified clients (pyasic, hashpivot's drivers) talk to as if they were devices.

Each device gets its own address (127.x.y.z) on the standard ports; by `make:`
{makes}

The command prints one line per device ("antminer S21 127.0.1.21", "gpu H200 127.0.4.1",
"meter modbus 127.0.100.1"), then "ready".
"""

_EPILOG = f"""\
examples:
  hashpivot sim deploy/examples/site-small.yaml
  hashpivot sim site.yaml --speed 60            a 10-minute ramp takes 10 s
  hashpivot sim site.yaml --unprivileged        web API on {UNPRIVILEGED_WEB_PORT}, no root needed
  hashpivot sim site.yaml --control 127.0.0.1:9870
      curl -X POST 127.0.0.1:9870/devices/127.0.1.21/faults -d '{{"fault":"stall"}}'
      curl -X POST 127.0.0.1:9870/faults -d '{{"fault":"refuse","fraction":0.1}}'
      curl 127.0.0.1:9870/devices

listen modes:
  exact   one listening socket per device and port (several fleets can share a host)
  shared  one socket per port on 0.0.0.0, routed by destination address (10,000+ devices)
  auto    exact unless devices x ports would approach the open-file limit

faults (site file `faults:` or the control plane): refuse, stall, slow[=SECONDS],
malformed, truncated, ack_sleep_keep_hashing, ignore_writes, web_down, rpc_down.

Port 80 needs root or `sysctl net.ipv4.ip_unprivileged_port_start=80`.
"""


_LOG_LEVELS = ("debug", "info", "warning", "error")  # as `hashpivot run` and gpu-agent name them


class _Parser(argparse.ArgumentParser):
    """Usage errors on one line, as every hashpivot command gives them (exit status 2)."""

    def error(self, message: str) -> NoReturn:
        text = "".join(c if c.isprintable() else repr(c)[1:-1] for c in message)
        self.exit(2, f"{self.prog}: {text} (see {self.prog} --help)\n")


def _log_level(text: str) -> str:
    if text.lower() not in _LOG_LEVELS:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a log level; choose from {', '.join(_LOG_LEVELS)}"
        )
    return text.lower()


def _speed(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not 0 < value <= 1e6:
        raise argparse.ArgumentTypeError(f"{text!r} must be above 0 and at most 1000000")
    return value


def _makes_served() -> str:
    """One paragraph per registered make (simulators/<make>/make.py), as the help shows it."""
    return "\n".join(
        textwrap.fill(
            spec.serves, width=88, initial_indent=f"  {spec.make:<11} ", subsequent_indent=" " * 14
        )
        for spec in sim_specs()
    )


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="hashpivot sim",
        description=_DESCRIPTION.format(makes=_makes_served()),
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("site", help="site file (YAML), e.g. deploy/examples/site-small.yaml")
    parser.add_argument(
        "--speed",
        type=_speed,
        default=1.0,
        metavar="FACTOR",
        help="simulated seconds per real second (default 1)",
    )
    parser.add_argument(
        "--listen", choices=["auto", "exact", "shared"], default="auto", help="default auto"
    )
    parser.add_argument(
        "--unprivileged",
        action="store_true",
        help=f"serve port-80 services on {UNPRIVILEGED_WEB_PORT} and the meter on "
        f"{UNPRIVILEGED_MODBUS_PORT} instead (pyasic needs 80)",
    )
    parser.add_argument(
        "--control", metavar="HOST:PORT", help="serve the fault-injection API here (loopback)"
    )
    parser.add_argument("--seed", type=int, default=0, help="noise and per-unit variation seed")
    parser.add_argument(
        "--log-level",
        type=_log_level,
        default="warning",
        metavar="LEVEL",
        help=f"{', '.join(_LOG_LEVELS)} (default warning)",
    )
    return parser


def _control_address(text: str) -> tuple[str, int]:
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit() or not 0 < int(port) < 65536:
        raise SimulatorError(f"--control expects HOST:PORT, got {text!r}", code="usage")
    return host or "127.0.0.1", int(port)


async def _run(args: argparse.Namespace) -> int:
    site = load_site(args.site)
    ports = PortMap.unprivileged() if args.unprivileged else PortMap()
    fleet = Fleet(site, speed=args.speed, listen=args.listen, ports=ports, seed=args.seed)
    control = ControlPlane(fleet, *_control_address(args.control)) if args.control else None
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    await fleet.start()
    try:
        if control is not None:
            await control.start()
        for device in fleet:
            print(f"{device.make} {device.model} {device.address}")
        for meter in fleet.meters:
            print(f"{meter.make} {meter.model} {meter.address}")
        print("ready", flush=True)
        await stop.wait()
    finally:
        if control is not None:
            await control.stop()
        await fleet.stop()
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = _parser().parse_args(list(sys.argv[1:] if argv is None else argv))
    except SystemExit as exc:  # --help, or a usage error argparse already explained
        return int(exc.code or 0) if not isinstance(exc.code, str) else 2
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    package_logger = logging.getLogger("simulators")  # ours only: never the root logger
    package_logger.addHandler(handler)
    package_logger.setLevel(args.log_level.upper())
    # pymodbus (the simulated meter's server) logs every client hiccup as an error.
    logging.getLogger("pymodbus").setLevel(logging.CRITICAL)
    try:
        return asyncio.run(_run(args))
    except SimulatorError as exc:
        text = "".join(c if c.isprintable() else repr(c)[1:-1] for c in str(exc))
        print(f"hashpivot sim: {text}", file=sys.stderr)
        return 2
    except OSError as exc:  # a port in use, an address this host does not have
        print(f"hashpivot sim: cannot listen: {exc.strerror or exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        package_logger.removeHandler(handler)


if __name__ == "__main__":
    raise SystemExit(main())
