"""The Whatsminer make registers itself (docs/adding-a-make.md)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from drivers.registry import Fingerprint, MakeSpec
from drivers.settings import Credentials, DriverSettings
from drivers.types import DeviceEndpoint, Make

if TYPE_CHECKING:
    from drivers.base import MinerDriver

__all__ = ["MAKE", "SPEC"]

MAKE = Make("whatsminer")


def _open(
    endpoint: DeviceEndpoint, credentials: Credentials | None, settings: DriverSettings
) -> MinerDriver:
    from drivers.whatsminer.device import WhatsminerDriver  # noqa: PLC0415 - load makes on demand

    return WhatsminerDriver(endpoint, credentials=credentials, settings=settings)


SPEC = MakeSpec(
    make=MAKE,
    title="MicroBT Whatsminer (btminer, API v2 and v3)",
    open=_open,
    default_credentials=Credentials("admin", "admin"),
    fingerprint=Fingerprint(rpc_markers=("BTMINER", "BITMICRO"), v3_device_info=True),
    pyasic_name="whatsminer",
)
