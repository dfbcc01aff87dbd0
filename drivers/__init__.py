"""Async drivers for mining and AI hardware.

The public surface is this module: the capability interface, the domain types,
the exception tree, the model table, the make registry (:func:`spec`, :func:`specs`)
and :func:`open_driver`. Make-specific packages (``drivers.antminer`` …) are
implementation details that register themselves (docs/adding-a-make.md).
"""

from __future__ import annotations

from drivers import errors, types
from drivers.base import MinerDriver

# The exception tree and the domain types, each as its module's __all__ lists them.
from drivers.errors import *  # noqa: F403
from drivers.errors import UnsupportedError
from drivers.models import MODELS, ModelSpec, UnknownModel, lookup_model, normalise_model_name
from drivers.registry import MakeSpec, spec, specs
from drivers.settings import Credentials, DriverSettings
from drivers.types import *  # noqa: F403
from drivers.types import DeviceEndpoint, Make

__all__ = [
    "MODELS",
    "Credentials",
    "DriverSettings",
    "MakeSpec",
    "MinerDriver",
    "ModelSpec",
    "UnknownModel",
    "detect_make",
    "lookup_model",
    "normalise_model_name",
    "open_driver",
    "spec",
    "specs",
]
__all__ += errors.__all__
__all__ += types.__all__


def open_driver(
    make: Make,
    endpoint: DeviceEndpoint,
    *,
    credentials: Credentials | None = None,
    settings: DriverSettings | None = None,
    via: str = "native",
) -> MinerDriver:
    """A driver for one device of a known make. Nothing is sent until it is used.

    ``via="pyasic"`` drives firmware hashpivot has no native driver for (Braiins OS,
    LuxOS, Vnish, ePIC) through the optional pyasic adapter (the ``pyasic`` extra).
    """
    settings = settings or DriverSettings()
    if via == "pyasic":
        from drivers.pyasic_adapter import PyasicDriver  # noqa: PLC0415 - optional extra

        return PyasicDriver(endpoint, credentials=credentials, settings=settings)
    if via != "native":
        raise UnsupportedError(endpoint.host, f"unknown driver route {via!r}")
    return spec(make).open(endpoint, credentials, settings)


async def detect_make(endpoint: DeviceEndpoint, settings: DriverSettings | None = None) -> Make:
    """Identify which make answers at ``endpoint`` (used by ``hashpivot probe``)."""
    from drivers.discovery import detect  # noqa: PLC0415

    return await detect(endpoint, settings or DriverSettings())
