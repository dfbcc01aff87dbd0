"""The Auradine make registers itself (docs/adding-a-make.md)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from drivers.registry import Fingerprint, MakeSpec
from drivers.settings import Credentials, DriverSettings
from drivers.types import DeviceEndpoint, Make

if TYPE_CHECKING:
    from drivers.base import MinerDriver

__all__ = ["MAKE", "SPEC"]

MAKE = Make("auradine")


def _open(
    endpoint: DeviceEndpoint, credentials: Credentials | None, settings: DriverSettings
) -> MinerDriver:
    from drivers.auradine.device import AuradineDriver  # noqa: PLC0415 - load makes on demand

    return AuradineDriver(endpoint, credentials=credentials, settings=settings)


SPEC = MakeSpec(
    make=MAKE,
    title="Auradine Teraflux (FluxOS)",
    open=_open,
    default_credentials=Credentials("admin", "admin"),
    fingerprint=Fingerprint(rpc_markers=("GCMINER", "FLUXOS")),
    pyasic_name="auradine",
)
