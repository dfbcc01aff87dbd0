"""The capability interface every miner driver implements."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from drivers.models import ModelSpec
from drivers.types import (
    Command,
    CommandOutcome,
    Control,
    DeviceEndpoint,
    DeviceInfo,
    Make,
    Telemetry,
)

__all__ = ["MinerDriver"]


@runtime_checkable
class MinerDriver(Protocol):
    """One device. Drivers are cheap to hold open: they keep their connections.

    Every method raises a :class:`drivers.errors.DriverError` subclass on failure.
    ``identify`` must run before ``read`` or ``apply`` (they need the model);
    ``read`` calls it lazily if it has not.
    """

    make: Make
    endpoint: DeviceEndpoint

    @property
    def spec(self) -> ModelSpec | None: ...

    @property
    def controls(self) -> frozenset[Control]: ...

    async def identify(self) -> DeviceInfo: ...

    async def read(self) -> Telemetry: ...

    async def apply(self, command: Command) -> CommandOutcome:
        """Send one command and confirm it by reading the device's setting back.

        Raises :class:`drivers.errors.WriteNotApplied` when the device acknowledged
        but the read-back disagrees, and :class:`drivers.errors.UnsupportedError`
        when neither the command nor a near substitute exists for this model.
        """
        ...

    async def close(self) -> None: ...
