"""What the device drivers keep alike: the model spec and controls, a per-device log,
failures and state changes logged once, which control each command needs, and a write
confirmed by reading it back.

Each make's driver still owns its transports, its reads and the shape of its writes;
this is only the bookkeeping that was the same in every one of them.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any, ClassVar, TypeVar

from drivers.errors import DriverError, UnsupportedError, WriteNotApplied
from drivers.models import ModelSpec, UnknownModel, lookup_model, stock_controls
from drivers.settings import Credentials, DriverSettings
from drivers.types import (
    Command,
    CommandOutcome,
    Control,
    DeviceEndpoint,
    DeviceInfo,
    IdentityConflict,
    Make,
    MiningState,
    Reboot,
    SetPowerMode,
    SetPowerTarget,
    Wake,
    is_sleep,
)

__all__ = ["DeviceBase", "DeviceLog"]

_Setting = TypeVar("_Setting")

# Read-back: the setting normally shows at once; give a slow unit a moment before judging.
CONFIRM_TRIES = 3
CONFIRM_PAUSE_S = 0.5


class DeviceLog(logging.LoggerAdapter[logging.Logger]):
    """A module logger whose messages start with the device: ``"antminer 10.0.0.5: ..."``."""

    def __init__(self, logger: logging.Logger, device: str) -> None:
        super().__init__(logger, {"device": device})

    def process(self, msg: Any, kwargs: MutableMapping[str, Any]) -> tuple[Any, Any]:
        return f"{self.extra['device'] if self.extra else '?'}: {msg}", kwargs


class DeviceBase:
    """One device's endpoint, model spec and logging; subclasses implement MinerDriver.

    Every driver is built the same way, ``Driver(endpoint, credentials=..., settings=...)``
    (the make registry relies on it, drivers/registry.py); a make builds its transports
    in :meth:`_open`, which sends nothing. :meth:`apply` checks a command against the
    model's controls and hands it to the make's write for it (``_reboot``, ``_sleep``,
    ``_wake``, ``_set_power_mode``, ``_set_power_target``). Log lines go to the logger
    of the module that defines the make's driver.
    """

    make: Make
    log_prefix: ClassVar[str] = ""  # before the host in log lines: "antminer "

    def __init__(
        self,
        endpoint: DeviceEndpoint,
        *,
        credentials: Credentials | None = None,
        settings: DriverSettings | None = None,
    ) -> None:
        self.endpoint = endpoint
        self._credentials = credentials  # None: the make's factory login
        self._settings = settings or DriverSettings()
        logger = logging.getLogger(type(self).__module__)
        self._log = DeviceLog(logger, self.log_prefix + endpoint.host)
        self._info: DeviceInfo | None = None
        self._spec: ModelSpec | None = None
        self._last_state: MiningState | None = None
        self._failing: str | None = None  # the error code reads fail with, while they do
        self._identity_conflict: IdentityConflict | None = None
        self._open()

    def _open(self) -> None:
        """Build the make's transports from the endpoint, credentials and settings."""

    @property
    def spec(self) -> ModelSpec | None:
        return self._spec

    @property
    def controls(self) -> frozenset[Control]:
        # Without a known model: what the make's stock firmware offers.
        return self._spec.controls if self._spec else stock_controls(self.make)

    async def identify(self) -> DeviceInfo:
        raise NotImplementedError

    async def _identified(self) -> None:
        """Identify once: reads and writes need the model."""
        if self._info is None:
            await self.identify()

    def _lookup_spec(self, model: str) -> ModelSpec | None:
        """Set (and return) the model table's row for ``model``; None if it has none."""
        try:
            self._spec = lookup_model(self.make, model)
        except UnknownModel:
            self._spec = None
        return self._spec

    async def apply(self, command: Command) -> CommandOutcome:
        """Identify once, check that the model offers ``command``, then write it.

        A power target is the make's to check: some substitute a power mode for it.
        """
        await self._identified()
        if isinstance(command, Reboot):
            self._require(Control.REBOOT, command)
            return await self._reboot(command)
        if is_sleep(command):
            self._require(Control.SLEEP, command)
            return await self._sleep(command)
        if isinstance(command, Wake):
            self._require(Control.WAKE, command)
            return await self._wake(command)
        if isinstance(command, SetPowerMode):
            self._require(Control.POWER_MODE, command)
            return await self._set_power_mode(command)
        if isinstance(command, SetPowerTarget):
            return await self._set_power_target(command)
        raise UnsupportedError(self.endpoint.host, f"unknown command {command!r}")

    # The make's writes, each called once the command's control is checked.
    async def _reboot(self, command: Command) -> CommandOutcome:
        raise NotImplementedError

    async def _sleep(self, command: Command) -> CommandOutcome:
        """``command`` is ``Sleep`` or the sleep power mode."""
        raise NotImplementedError

    async def _wake(self, command: Command) -> CommandOutcome:
        raise NotImplementedError

    async def _set_power_mode(self, command: SetPowerMode) -> CommandOutcome:
        raise NotImplementedError

    async def _set_power_target(self, command: SetPowerTarget) -> CommandOutcome:
        raise NotImplementedError

    def _require(self, control: Control, command: Command) -> None:
        if control not in self.controls:
            raise UnsupportedError(self.endpoint.host, f"{command!r} is not offered by this model")

    def _note_failure(self, exc: DriverError, level: int = logging.DEBUG) -> None:
        """Log a failed read once per kind of failure; the controller owns health logging."""
        if self._failing != exc.code:
            self._log.log(level, "read failed: %s", exc.message)
            self._failing = exc.code

    def _note_recovery(self, level: int | None = None) -> None:
        """A read worked: forget the failure, logging the recovery at ``level`` if given."""
        if self._failing is not None and level is not None:
            self._log.log(level, "reading again after %s", self._failing)
        self._failing = None

    def _note_identity(self, conflict: IdentityConflict | None) -> None:
        """Log when the device's sources start (or stop) disagreeing on its model, once."""
        if conflict == self._identity_conflict:
            return
        if conflict is not None:
            said = "; ".join(f"{where} says {model!r}" for where, model in conflict.reported)
            self._log.warning(
                "identity conflict: %s; taking %s by its evidence: %s",
                said,
                conflict.decided,
                conflict.evidence,
            )
        else:
            self._log.info("identity sources agree again")
        self._identity_conflict = conflict

    def _note_state(self, state: MiningState) -> None:
        if state is not self._last_state:
            self._log.info(
                "now %s (was %s)", state.value, self._last_state and self._last_state.value
            )
            self._last_state = state

    def _clamped_target(self, watts: float, top: str) -> tuple[int, tuple[str, ...]]:
        """``watts`` rounded and held within the model's power-target range, and why."""
        spec, target = self._spec, round(watts)
        notes: tuple[str, ...] = ()
        if spec and spec.power_target_max_w and target > spec.power_target_max_w:
            target = round(spec.power_target_max_w)
            notes = (f"clamped to the model's {top} {target} W",)
        if spec and spec.power_target_min_w and target < spec.power_target_min_w:
            target = round(spec.power_target_min_w)
            notes = (f"raised to the model's minimum {target} W",)
        return target, notes

    async def _confirmed_write(
        self,
        command: Command,
        read: Callable[[], Awaitable[_Setting]],
        send: Callable[[], Awaitable[object]],
        holds: Callable[[_Setting], bool],
        what: str,
        reads_back: str,
    ) -> CommandOutcome:
        """Send unless the setting already ``holds``; then read back until it does.

        Raises :class:`WriteNotApplied` when the device acknowledged but its setting
        (``reads_back``: what it is, for the message) still disagrees.
        """
        before = await read()
        if holds(before):
            return CommandOutcome(command=command, applied=True, detail=f"already {what}")
        await send()
        after = before
        for attempt in range(CONFIRM_TRIES):
            if attempt:
                await asyncio.sleep(CONFIRM_PAUSE_S)
            after = await read()
            if holds(after):
                self._log.info("%s confirmed", what)
                return CommandOutcome(command=command, applied=True, detail=f"{what} confirmed")
        raise WriteNotApplied(
            self.endpoint.host, f"acknowledged, but {reads_back} {after}, not {what}"
        )
