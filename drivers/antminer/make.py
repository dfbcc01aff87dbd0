"""The Antminer make registers itself (docs/adding-a-make.md)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from drivers.registry import Fingerprint, MakeSpec
from drivers.settings import Credentials, DriverSettings
from drivers.types import DeviceEndpoint, Make

if TYPE_CHECKING:
    from drivers.base import MinerDriver

__all__ = ["MAKE", "SPEC"]

MAKE = Make("antminer")


def _open(
    endpoint: DeviceEndpoint, credentials: Credentials | None, settings: DriverSettings
) -> MinerDriver:
    from drivers.antminer.device import AntminerDriver  # noqa: PLC0415 - load makes on demand

    return AntminerDriver(endpoint, credentials=credentials, settings=settings)


SPEC = MakeSpec(
    make=MAKE,
    title="Bitmain Antminer (stock firmware)",
    open=_open,
    default_credentials=Credentials("root", "root"),
    # The web server's digest realm is "antMiner Configuration".
    fingerprint=Fingerprint(rpc_markers=("ANTMINER", "BMMINER"), web_realm="antminer"),
    pyasic_name="antminer",
)
