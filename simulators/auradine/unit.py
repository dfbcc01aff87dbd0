"""An Auradine as its services see it: the :class:`AuradineUnit` interface that the
GCMiner RPC (``rpc.py``) and the FluxOS REST API (``rest.py``) read and change. The
device (``device.py``) implements it and serves them; they name this interface, not the
device, so no module of the package imports back the one that imports it.
"""

from __future__ import annotations

from typing import Protocol

from simulators.auradine.models import AuradineModel
from simulators.auradine.state import AuradineControl, RestTokens
from simulators.device import MinerUnit

__all__ = ["AuradineUnit"]


class AuradineUnit(MinerUnit, Protocol):
    @property
    def spec(self) -> AuradineModel: ...

    @property
    def control(self) -> AuradineControl: ...

    @property
    def tokens(self) -> RestTokens: ...

    @property
    def firmware(self) -> str: ...

    @property
    def gcminer_version(self) -> str: ...

    @property
    def gcminer_description(self) -> str: ...

    @property
    def fluxos_description(self) -> str: ...

    @property
    def max_fan_rpm(self) -> int: ...

    @property
    def pout_max_w(self) -> float: ...
