"""The Whatsminer as a :class:`drivers.base.MinerDriver`, over API v2 or v3.

``identify`` picks the API generation: firmware dated 2024-11 or later speaks
v3 on 4433; older firmware v2 on 4028; a unit whose 4028 port is closed is
asked on 4433 (docs/protocols.md §2.2). Power is the unit's own reading, never an
estimate. Every write is confirmed by reading the setting back: a unit that
acknowledges ``power_off`` but still reports itself mining raises
:class:`WriteNotApplied`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import replace

from drivers._device_base import DeviceBase
from drivers.cgminer import RpcTransport
from drivers.errors import (
    ConnectionFailed,
    DeviceTimeout,
    DriverError,
    ProtocolError,
    UnsupportedError,
)
from drivers.identity import UnitIdentity
from drivers.settings import Credentials
from drivers.types import (
    Command,
    CommandOutcome,
    Control,
    DeviceInfo,
    MiningState,
    PowerMode,
    SetPowerMode,
    SetPowerTarget,
    Telemetry,
)
from drivers.whatsminer.backends import Backend, V2Backend, V3Backend
from drivers.whatsminer.make import SPEC
from drivers.whatsminer.records import MinerSetting, Reading, uses_api_v3
from drivers.whatsminer.state import mining_state
from drivers.whatsminer.transport_v3 import FrameTransport

__all__ = ["WhatsminerDriver"]

_V2_CREDENTIALS = Credentials("admin", "admin")  # stock; writes stay off until it is changed
_V3_CREDENTIALS = Credentials("super", "super")
_LIMIT_SLACK_W = 1.0


class WhatsminerDriver(DeviceBase):
    make = SPEC.make

    def _open(self) -> None:
        self._backend: Backend | None = None
        self._woke_at: float | None = None

    @property
    def api(self) -> str | None:
        """``"v2"`` or ``"v3"`` once identified."""
        return self._backend.api if self._backend else None

    # Backends ---------------------------------------------------------------

    def _v2(self) -> V2Backend:
        from drivers.whatsminer.api_v2 import V2Api  # noqa: PLC0415 - keeps this import local

        transport = RpcTransport.for_endpoint(self.endpoint, self._settings)
        return V2Backend(V2Api(transport, (self._credentials or _V2_CREDENTIALS).password))

    def _v3(self) -> V3Backend:
        from drivers.whatsminer.api_v3 import V3Api  # noqa: PLC0415

        endpoint = self.endpoint
        transport = FrameTransport(endpoint.host, endpoint.port("v3", 4433), self._settings)
        creds = self._credentials or _V3_CREDENTIALS
        # One password serves both APIs; v3's write account is "super", so the v2
        # login name ("admin", what a config for the make names by default) maps to it.
        account = _V3_CREDENTIALS.username if creds.username in ("", "admin") else creds.username
        return V3Backend(V3Api(transport, account, creds.password))

    async def _choose(self) -> tuple[Backend, UnitIdentity]:
        v2 = self._v2()
        try:
            version = await v2.version()
        except DeviceTimeout:
            raise  # silent, not absent: asking 4433 too would double the wait
        except ConnectionFailed as closed:
            return await self._v3_or(closed)
        except DriverError as exc:  # answers, but get_version is unusable (e.g. Msg a string)
            self._log.debug("get_version unusable (%s); trying API v3", exc)
            try:
                v3 = self._v3()
                return v3, await v3.identify()
            except DriverError:
                return v2, await v2.identify()
        if uses_api_v3(version.firmware):
            try:
                v3 = self._v3()
                return v3, await v3.identify()
            except ConnectionFailed:
                self._log.info(
                    "firmware %s should speak API v3 but 4433 is closed; using v2",
                    version.firmware,
                )
        return v2, await v2.identify()

    async def _v3_or(self, closed: ConnectionFailed) -> tuple[Backend, UnitIdentity]:
        v3 = self._v3()
        try:
            return v3, await v3.identify()
        except ConnectionFailed:
            raise closed from None

    # MinerDriver ------------------------------------------------------------

    async def identify(self) -> DeviceInfo:
        if self._backend is None:
            self._backend, ident = await self._choose()
        else:
            ident = await self._backend.identify()
        if not ident.model:
            raise ProtocolError(self.endpoint.host, "the unit names no model")
        if self._lookup_spec(ident.model) is None:
            self._log.info("model %r is not in the model table", ident.model)
        self._info = DeviceInfo(
            make=SPEC.make,
            model=self._spec.model if self._spec else ident.model,
            firmware=ident.firmware,
            serial=ident.serial,
            mac=ident.mac,
            hostname=ident.hostname,
        )
        self._log.debug("identified %s over API %s", ident.model, self.api)
        return self._info

    async def _ready(self) -> Backend:
        if self._backend is None or self._info is None:
            await self.identify()
        assert self._backend is not None
        return self._backend

    async def read(self) -> Telemetry:
        try:
            backend = await self._ready()
            reading, setting = await backend.read()
        except DriverError as exc:
            self._note_failure(exc)
            raise
        self._note_recovery()
        return self._telemetry(reading, setting)

    def _telemetry(self, reading: Reading | None, setting: MinerSetting) -> Telemetry:
        clock = self._settings.clock
        if setting.mining_off:
            self._woke_at = None
        elif self._last_state is MiningState.SLEEPING and self._woke_at is None:
            self._woke_at = clock.monotonic()
        since_wake = None if self._woke_at is None else clock.monotonic() - self._woke_at
        state = mining_state(setting.mining_off, reading, self._spec, since_wake)
        self._note_state(state)
        if state is MiningState.HASHING:
            self._woke_at = None
        r = reading or Reading()
        boards = r.boards
        mode = PowerMode.SLEEP if setting.mining_off else setting.power_mode or r.power_mode
        return Telemetry(
            taken_at=self._settings.clock.time(),
            mining_state=state,
            hashrate_hs=r.hashrate_hs if reading else (0.0 if setting.mining_off else None),
            power_w=r.power_w,
            power_limit_w=setting.power_limit_w or r.power_limit_w,
            power_mode=mode,
            nameplate_hashrate_hs=r.nameplate_hs
            or (self._spec.nameplate_hs if self._spec else None),
            board_temps_c=r.board_temps_c
            or tuple(b.board_temp_c for b in boards if b.board_temp_c is not None),
            chip_temps_c=tuple(b.chip_temp_c for b in boards if b.chip_temp_c is not None),
            inlet_temp_c=r.env_temp_c,
            fans_rpm=r.fans_rpm,
            boards=boards,
            uptime_s=r.elapsed_s,
            errors=r.errors,
        )

    async def _reboot(self, command: Command) -> CommandOutcome:
        backend = await self._ready()
        await backend.reboot()
        self._log.info("reboot sent")
        return CommandOutcome(command=command, applied=True, detail="reboot acknowledged")

    async def _sleep(self, command: Command) -> CommandOutcome:
        backend = await self._ready()
        return await self._write(command, backend.sleep, lambda s: s.mining_off is True, "stopped")

    async def _wake(self, command: Command) -> CommandOutcome:
        backend = await self._ready()
        outcome = await self._write(
            command, backend.wake, lambda s: s.mining_off is False, "started"
        )
        self._woke_at = self._settings.clock.monotonic()
        return outcome

    async def _set_power_mode(self, command: SetPowerMode) -> CommandOutcome:
        return await self._set_mode(await self._ready(), command, command.mode)

    async def _set_power_target(self, command: SetPowerTarget) -> CommandOutcome:
        return await self._set_target(await self._ready(), command)

    async def _set_mode(
        self, backend: Backend, command: Command, mode: PowerMode, note: str = ""
    ) -> CommandOutcome:
        """Write power ``mode``, for ``command`` (a power mode, or a target it stands in for).

        The caller has checked that the model offers power modes.
        """
        acked = False

        async def send() -> None:
            nonlocal acked
            acked = await backend.set_power_mode(mode)

        outcome = await self._write(
            command, send, lambda s: s.power_mode is mode, f"power mode {mode.value}"
        )
        notes = outcome.notes + ((note,) if note else ())
        if not acked:
            notes += ("the unit did not answer the mode change (normal for it); read back",)
        substituted = SetPowerMode(mode) if command != SetPowerMode(mode) else None
        return replace(outcome, substituted=substituted, notes=notes)

    async def _set_target(self, backend: Backend, command: SetPowerTarget) -> CommandOutcome:
        spec = self._spec
        if Control.POWER_TARGET not in self.controls:
            if Control.POWER_MODE not in self.controls or spec is None:
                raise UnsupportedError(self.endpoint.host, "no power target and no mode to use")
            mode = PowerMode.LOW if command.watts < spec.nameplate_w else PowerMode.NORMAL
            note = f"no power target on this model; {mode.value} mode is the nearest"
            return await self._set_mode(backend, command, mode, note)
        watts, notes = self._clamped_target(command.watts, "standard power")
        outcome = await self._write(
            command,
            lambda: backend.set_power_limit(watts),
            lambda s: (
                s.power_limit_w is not None and abs(s.power_limit_w - watts) <= _LIMIT_SLACK_W
            ),
            f"power limit {watts} W",
        )
        substituted = SetPowerTarget(watts) if watts != command.watts else None
        notes += ("the unit restarts mining to apply a new limit",)
        return replace(outcome, substituted=substituted, notes=notes)

    async def _write(
        self,
        command: Command,
        send: Callable[[], Awaitable[None]],
        holds: Callable[[MinerSetting], bool],
        what: str,
    ) -> CommandOutcome:
        backend = await self._ready()
        return await self._confirmed_write(
            command, backend.setting, send, holds, what, "the unit still reads back"
        )

    async def close(self) -> None:
        if self._backend is not None:
            await self._backend.close()
