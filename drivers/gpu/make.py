"""The GPU node make registers itself (docs/adding-a-make.md)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from drivers.registry import MakeSpec
from drivers.settings import Credentials, DriverSettings
from drivers.types import DeviceEndpoint, Make

if TYPE_CHECKING:
    from drivers.base import MinerDriver

__all__ = ["MAKE", "SPEC"]

MAKE = Make("gpu")


def _open(
    endpoint: DeviceEndpoint, credentials: Credentials | None, settings: DriverSettings
) -> MinerDriver:
    from drivers.gpu.device import GpuNodeDriver  # noqa: PLC0415 - load makes on demand

    # The node agent's bearer token travels as the credential's password.
    token = credentials.password if credentials else None
    return GpuNodeDriver(endpoint, token=token, settings=settings)


SPEC = MakeSpec(
    make=MAKE,
    title="NVIDIA GPU node (hashpivot node agent, dcgm-exporter)",
    open=_open,
    probe=False,  # a node agent is reached by its configured port and token, not detected
)
