"""An Auradine as its services see it: the :class:`AuradineUnit` interface that the
GCMiner RPC (``rpc.py``) and the FluxOS REST API (``rest.py``) read and change. The
device (``device.py``) implements it and serves them; they name this interface, not the
device, so no module of the package imports back the one that imports it.
"""

from __future__ import annotations

from typing import Protocol

from simulators.auradine.models import AuradineModel
from simulators.auradine.state import AuradineControl, RestTokens
from simulators.clock import SimClock
from simulators.physics import MinerPhysics

__all__ = ["AuradineUnit"]


class AuradineUnit(Protocol):
    @property
    def address(self) -> str: ...

    @property
    def clock(self) -> SimClock: ...

    @property
    def spec(self) -> AuradineModel: ...

    @property
    def physics(self) -> MinerPhysics: ...

    @property
    def control(self) -> AuradineControl: ...

    @property
    def tokens(self) -> RestTokens: ...

    @property
    def hostname(self) -> str: ...

    @property
    def mac(self) -> str: ...

    @property
    def serial(self) -> str: ...

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

    def ignores_writes(self) -> bool: ...

    def reboot(self) -> None: ...
