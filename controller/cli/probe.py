"""``hashpivot probe``: identify one device and print its reading as one JSON object.

The operator's first command on a new site: it answers "what is at this address,
and can hashpivot talk to it?" with no configuration file.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Sequence
from dataclasses import asdict
from typing import Any

from controller.cli.args import OneLineParser, add_log_level, fail, host, positive_float
from controller.config.settings import CredentialsConfig
from controller.errors import ConfigError
from controller.logs import configure_logging
from drivers import (
    ConnectionFailed,
    DeviceEndpoint,
    DeviceInfo,
    DriverError,
    DriverSettings,
    Make,
    Telemetry,
    UnsupportedError,
    detect_make,
    open_driver,
    specs,
)

__all__ = ["main", "probe"]

_PROG = "hashpivot probe"


def _port(text: str) -> tuple[str, int]:
    name, sep, number = text.partition("=")
    if not sep or not name or not number.isdigit() or not 0 < int(number) < 65536:
        raise argparse.ArgumentTypeError(f"{text!r}: expected NAME=PORT, for example web=10080")
    return name, int(number)


def _conflict(info: DeviceInfo) -> dict[str, Any] | None:
    """Where the device named itself differently, and what its boards say it is; None if
    every source agreed. ``model`` above is the decided one, and so is the power estimate."""
    conflict = info.identity_conflict
    if conflict is None:
        return None
    return {
        "reported": [{"source": where, "model": model} for where, model in conflict.reported],
        "decided": conflict.decided,
        "evidence": conflict.evidence,
    }


def _snapshot(info: DeviceInfo, telemetry: Telemetry) -> dict[str, Any]:
    return {
        "make": info.make.value,
        "model": info.model,
        "firmware": info.firmware,
        "serial": info.serial,
        "mac": info.mac,
        "hostname": info.hostname,
        "identity_conflict": _conflict(info),
        "mining_state": telemetry.mining_state.value,
        "hashrate_hs": telemetry.hashrate_hs,
        "nameplate_hashrate_hs": telemetry.nameplate_hashrate_hs,
        "power_w": telemetry.power_w,
        "power_estimated": telemetry.power_estimated,
        "power_limit_w": telemetry.power_limit_w,
        "power_mode": telemetry.power_mode.value if telemetry.power_mode else None,
        "temperatures_c": {
            "boards": list(telemetry.board_temps_c),
            "chips": list(telemetry.chip_temps_c),
            "inlet": telemetry.inlet_temp_c,
        },
        "fans_rpm": list(telemetry.fans_rpm),
        "boards": [asdict(board) for board in telemetry.boards],
        "uptime_s": telemetry.uptime_s,
        "errors": [asdict(error) for error in telemetry.errors],
        "taken_at": telemetry.taken_at,
    }


async def probe(
    endpoint: DeviceEndpoint,
    make: Make | None,
    login: CredentialsConfig,
    settings: DriverSettings,
) -> dict[str, Any]:
    make = make or await detect_make(endpoint, settings)
    credentials = login.resolve(make)
    driver = open_driver(make, endpoint, credentials=credentials, settings=settings)
    try:
        info = await driver.identify()
        telemetry = await driver.read()
    finally:
        await driver.close()
    return _snapshot(info, telemetry)


def main(argv: Sequence[str]) -> int:
    parser = OneLineParser(
        prog="hashpivot probe",
        description="Identify the device at ADDRESS and print its telemetry as one JSON object "
        "(hashrate in H/s, power in W, temperatures in Celsius).",
        epilog="Examples:\n  hashpivot probe 10.0.0.21\n"
        "  hashpivot probe 127.0.1.21 --make antminer   "
        "an S21 of hashpivot sim deploy/examples/site-small.yaml\n"
        "  hashpivot probe 127.0.1.21 --port web=10080  "
        "the same under hashpivot sim --unprivileged\n"
        "Exit status: 0 read, 3 nothing answered, 4 not supported, 5 other device error.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("address", type=host, help="IP address or host name of the device")
    parser.add_argument(
        "--make",
        choices=[spec.make.value for spec in specs() if spec.probe],  # drivers/<make>/make.py
        help="skip detection and use this make's driver",
    )
    parser.add_argument(
        "--port",
        action="append",
        type=_port,
        default=[],
        metavar="NAME=PORT",
        help="non-standard port, e.g. web=10080 or rpc=14028 (repeatable)",
    )
    parser.add_argument("--username", help="login name (default: the make's factory default)")
    parser.add_argument(
        "--password",
        help="password (default: $HASHPIVOT_<MAKE>_PASSWORD, else the make's factory default)",
    )
    parser.add_argument(
        "--timeout",
        type=positive_float,
        default=5.0,
        help="seconds to wait for each reply (default 5)",
    )
    add_log_level(parser, "warning")
    args = parser.parse_args(argv)
    configure_logging(args.log_level)
    endpoint = DeviceEndpoint(args.address, tuple(sorted(args.port)))
    make = Make(args.make) if args.make else None
    login = CredentialsConfig(username=args.username, password=args.password)
    settings = DriverSettings(connect_timeout_s=args.timeout, read_timeout_s=args.timeout)
    try:
        result = asyncio.run(probe(endpoint, make, login, settings))
    except ConnectionFailed as exc:
        return fail(_PROG, f"nothing answered at {args.address}: {exc.message}", 3)
    except UnsupportedError as exc:
        return fail(_PROG, f"{args.address} is not a supported device: {exc.message}", 4)
    except ConfigError as exc:
        return fail(_PROG, str(exc), 2)
    except DriverError as exc:
        return fail(_PROG, f"{args.address}: {exc.code}: {exc.message}", 5)
    json.dump(result, sys.stdout, indent=2)
    sys.stdout.write("\n")
    return 0
