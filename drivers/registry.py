"""The make registry: what each make package says about itself, as data.

Every make package ``drivers/<make>/`` has a ``make.py`` module whose ``SPEC`` is a
:class:`MakeSpec`. Everything that used to list the makes by hand reads them from
here: :func:`drivers.open_driver`, discovery (``drivers.discovery``), default
credentials (``controller.config.settings``), the pyasic adapter's make names, the OpenAPI
enum and the contract suite. A make's modules are imported on first lookup, so a
process that never opens a driver never loads one. See docs/adding-a-make.md.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING

from drivers.makes import REGISTRATION_MODULE
from drivers.settings import Credentials, DriverSettings
from drivers.types import DeviceEndpoint, Make

if TYPE_CHECKING:
    from drivers.base import MinerDriver

__all__ = ["Fingerprint", "MakeSpec", "RegistryError", "spec", "specs"]


class RegistryError(Exception):
    """A make package registers itself wrongly (a programming error, found at first lookup)."""


@dataclass(frozen=True, kw_only=True, slots=True)
class Fingerprint:
    """How discovery recognises the make from what its ports answer (drivers/discovery.py)."""

    # Words (upper case) in the CGMiner-style RPC ``version`` or ``devdetails`` reply on 4028.
    rpc_markers: tuple[str, ...] = ()
    # The start of the digest realm (lower case) in the web server's 401 challenge on 80.
    web_realm: str | None = None
    # Answers ``get.device.info`` in a length-prefixed JSON frame on 4433.
    v3_device_info: bool = False


@dataclass(frozen=True, kw_only=True, slots=True)
class MakeSpec:
    """One make, as its package registers it."""

    make: Make
    title: str  # vendor and firmware, for people: "Bitmain Antminer (stock firmware)"
    # The native driver class, "module:Class", imported when the first device opens. It
    # takes (endpoint, *, credentials, settings), as every MinerDriver does.
    driver: str
    default_credentials: Credentials = field(default_factory=lambda: Credentials("admin", "admin"))
    fingerprint: Fingerprint = field(default_factory=Fingerprint)
    pyasic_name: str | None = None  # pyasic's make name, for the pyasic adapter; None: not one
    probe: bool = True  # `hashpivot probe` can detect and drive it

    def open(
        self, endpoint: DeviceEndpoint, credentials: Credentials | None, settings: DriverSettings
    ) -> MinerDriver:
        """A driver for one device of this make. Nothing is sent until it is used."""
        module, _, name = self.driver.partition(":")
        driver: MinerDriver = getattr(importlib.import_module(module), name)(
            endpoint, credentials=credentials, settings=settings
        )
        return driver


@cache
def spec(make: Make) -> MakeSpec:
    """The registration of ``make``, importing its ``make`` module the first time."""
    module_name = f"drivers.{make.value}.{REGISTRATION_MODULE}"
    module = importlib.import_module(module_name)
    found = getattr(module, "SPEC", None)
    if not isinstance(found, MakeSpec):
        raise RegistryError(f"{module_name} has no SPEC = MakeSpec(...)")
    if found.make is not make:
        raise RegistryError(f"{module_name} registers {found.make.value!r}, not {make.value!r}")
    return found


def specs() -> tuple[MakeSpec, ...]:
    """Every registered make, in :class:`Make` order."""
    return tuple(spec(make) for make in Make)
