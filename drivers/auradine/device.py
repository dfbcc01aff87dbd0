"""The Auradine Teraflux (FluxOS) as a :class:`drivers.base.MinerDriver`.

Reads: GCMiner RPC ``summary+devs`` on 4028 for rates (read-only, no login),
and REST ``mode``, ``psu``, ``fan`` and ``temperature`` on 8080 over one
kept-alive, token-authenticated session. If the RPC port is closed the REST
``summary``/``devs`` stand in. Mining is ``Mode[0].Sleep == "off"``; power is
the PSU's own ``PowerIn``; the limit is ``Mode[0].Power``, else ``PoutMax``.

Writes go to ``POST /mode`` (sleep on/off, eco/normal/turbo, custom power
target) and are confirmed by reading ``/mode`` back: a unit that acknowledges
sleep but still reads ``Sleep: off`` raises :class:`WriteNotApplied`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from drivers._device_base import DeviceBase
from drivers.auradine.make import SPEC
from drivers.auradine.protocol import (
    ModeSetting,
    parse_devdetails,
    parse_devs,
    parse_fan,
    parse_ipreport,
    parse_mode,
    parse_psu,
    parse_summary,
    parse_temperature,
)
from drivers.auradine.transport import RestTransport
from drivers.cgminer import CgminerRpc, RpcTransport, check_envelope
from drivers.cgminer.aio import gather_all, gather_pair
from drivers.errors import (
    ConnectionFailed,
    DeviceStatusError,
    DriverError,
    ProtocolError,
    UnsupportedError,
    WriteRejected,
)
from drivers.identity import UnitIdentity
from drivers.types import (
    Command,
    CommandOutcome,
    Control,
    DeviceInfo,
    HashBoard,
    MiningState,
    PowerMode,
    SetPowerMode,
    SetPowerTarget,
    Telemetry,
)

__all__ = ["AuradineDriver"]

_PRESETS = {PowerMode.LOW: "eco", PowerMode.NORMAL: "normal", PowerMode.HIGH: "turbo"}
_MODES = {preset: mode for mode, preset in _PRESETS.items()}
_LIMIT_SLACK_W = 1.0
_SETTLED_SHARE = 0.9


class AuradineDriver(DeviceBase):
    make = SPEC.make

    def _open(self) -> None:
        endpoint, settings = self.endpoint, self._settings
        login = self._credentials or SPEC.default_credentials
        self._rest = RestTransport(endpoint.host, endpoint.port("web", 8080), login, settings)
        self._rpc = CgminerRpc(RpcTransport.for_endpoint(endpoint, settings))

    async def _get(self, command: str) -> dict[str, Any]:
        return check_envelope(self.endpoint.host, command, await self._rest.get(command))

    async def identify(self) -> DeviceInfo:
        host = self.endpoint.host
        try:
            ident = parse_ipreport(host, await self._get("ipreport"))
        except (UnsupportedError, DeviceStatusError, ProtocolError) as exc:
            self._log.debug("no usable ipreport (%s); asking devdetails", exc.message)
            ident = UnitIdentity(model=None)
        model = ident.model
        if not model:
            model = parse_devdetails(host, await self._rpc.command("devdetails"))
        if not model:
            raise ProtocolError(host, "neither ipreport nor devdetails names a model")
        if self._lookup_spec(model) is None:
            self._log.info("model %r is not in the model table", model)
        self._info = DeviceInfo(
            make=SPEC.make,
            model=self._spec.model if self._spec else model,
            firmware=ident.firmware,
            serial=ident.serial,
            mac=ident.mac,
            hostname=ident.hostname,
        )
        return self._info

    async def _rates(self) -> tuple[tuple[float | None, float | None], tuple[HashBoard, ...]]:
        host = self.endpoint.host
        try:
            replies = await self._rpc.commands("summary", "devs")
            summary, devs = replies["summary"], replies["devs"]
        except ConnectionFailed as exc:  # RPC closed: the REST API serves the same reports
            self._log.debug("rpc unavailable (%s); rates over REST", exc.message)
            summary, devs = await gather_all([self._get("summary"), self._get("devs")])
        return parse_summary(host, summary), parse_devs(host, devs)

    async def read(self) -> Telemetry:
        host = self.endpoint.host
        try:
            await self._identified()
            rates, (mode, psu, fan, temps) = await gather_pair(
                self._rates(),
                gather_all([self._get(c) for c in ("mode", "psu", "fan", "temperature")]),
            )
            (hashrate, elapsed), boards = rates
            setting = parse_mode(host, mode)
            power_in, pout_max = parse_psu(host, psu)
            fans = parse_fan(host, fan)
            temperatures = parse_temperature(host, temps)
        except DriverError as exc:
            self._note_failure(exc)
            raise
        self._note_recovery()
        state = self._state(setting, hashrate, elapsed)
        if setting.sleeping:
            power_mode: PowerMode | None = PowerMode.SLEEP
        else:
            power_mode = _MODES.get(setting.mode or "")
        spec = self._spec
        return Telemetry(
            taken_at=self._settings.clock.time(),
            mining_state=state,
            hashrate_hs=hashrate,
            power_w=power_in,
            power_limit_w=setting.power_w if setting.power_w else pout_max,
            power_mode=power_mode,
            nameplate_hashrate_hs=spec.nameplate_hs if spec else None,
            board_temps_c=temperatures.boards
            or tuple(b.board_temp_c for b in boards if b.board_temp_c is not None),
            chip_temps_c=temperatures.chips,
            fans_rpm=fans,
            boards=boards,
            uptime_s=elapsed,
        )

    def _state(
        self, setting: ModeSetting, hashrate: float | None, elapsed: float | None
    ) -> MiningState:
        spec = self._spec
        if setting.sleeping:
            state = MiningState.SLEEPING
        elif hashrate is None:
            state = MiningState.UNKNOWN
        elif hashrate <= 0:
            young = elapsed is not None and elapsed < (2 * spec.wake_to_hash_s if spec else 120)
            state = MiningState.STARTING if young else MiningState.FAULT
        elif (
            spec is not None
            and setting.mode in ("normal", "turbo")
            and hashrate < _SETTLED_SHARE * spec.nameplate_hs
            and elapsed is not None
            and elapsed < spec.wake_to_nameplate_s
        ):
            state = MiningState.STARTING
        else:
            state = MiningState.HASHING
        self._note_state(state)
        return state

    # Writes -----------------------------------------------------------------

    async def _reboot(self, command: Command) -> CommandOutcome:
        await self._post("restart", {})
        self._log.info("restart acknowledged")
        return CommandOutcome(command=command, applied=True, detail="restart acknowledged")

    async def _sleep(self, command: Command) -> CommandOutcome:
        return await self._mode(command, {"sleep": "on"}, lambda m: m.sleeping is True, "asleep")

    async def _wake(self, command: Command) -> CommandOutcome:
        return await self._mode(command, {"sleep": "off"}, lambda m: m.sleeping is False, "awake")

    async def _set_power_mode(self, command: SetPowerMode) -> CommandOutcome:
        preset = _PRESETS[command.mode]
        return await self._mode(
            command, {"mode": preset}, lambda m: m.mode == preset, f"mode {preset}"
        )

    async def _set_power_target(self, command: SetPowerTarget) -> CommandOutcome:
        self._require(Control.POWER_TARGET, command)
        watts, notes = self._clamped_target(command.watts, "maximum")
        outcome = await self._mode(
            command,
            {"mode": "custom", "tune": "power", "power": watts},
            lambda m: (
                m.mode == "custom"
                and m.power_w is not None
                and abs(m.power_w - watts) <= _LIMIT_SLACK_W
            ),
            f"custom power target {watts} W",
        )
        substituted = SetPowerTarget(watts) if watts != command.watts else None
        return replace(outcome, substituted=substituted, notes=notes)

    async def _post(self, command: str, params: dict[str, Any]) -> None:
        host = self.endpoint.host
        try:
            check_envelope(host, command, await self._rest.post(command, params))
        except DeviceStatusError as exc:
            raise WriteRejected(host, exc.message) from exc

    async def _mode(
        self,
        command: Command,
        params: dict[str, Any],
        holds: Callable[[ModeSetting], bool],
        what: str,
    ) -> CommandOutcome:
        return await self._confirmed_write(
            command,
            self._read_mode,
            lambda: self._post("mode", params),
            holds,
            what,
            "/mode still reads",
        )

    async def _read_mode(self) -> ModeSetting:
        return parse_mode(self.endpoint.host, await self._get("mode"))

    async def close(self) -> None:
        await self._rest.close()
