"""Firmware hashpivot does not drive natively (Braiins OS, LuxOS, Vnish, ePIC) through pyasic.

A :class:`drivers.base.MinerDriver` around one pyasic miner object, with what
pyasic lacks added at the boundary: every call under ``asyncio.timeout`` (pyasic's
own RPC timeout is 100 s), its ``None``/``{}``/``False`` answers and its bare
exceptions turned into typed :class:`DriverError`\\ s, and every write confirmed
by reading the device back. Stock-Antminer-style firmware is written through
pyasic's low-level ``get_miner_conf``/``set_miner_conf`` as a read-modify-write
that refuses to write when the read fails (pyasic's own ``stop_mining`` would
post blank pools); other firmware through pyasic's control methods.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from drivers._device_base import DeviceBase
from drivers.errors import (
    ConfigReadError,
    ConnectionFailed,
    DeviceTimeout,
    DriverError,
    ProtocolError,
    UnsupportedError,
    WriteNotApplied,
    WriteRejected,
)
from drivers.pyasic_adapter.loader import load_pyasic, pyasic_module
from drivers.registry import specs
from drivers.types import (
    Command,
    CommandOutcome,
    Control,
    DeviceError,
    DeviceInfo,
    HashBoard,
    Make,
    MiningState,
    PowerMode,
    SetPowerMode,
    SetPowerTarget,
    Telemetry,
)

__all__ = ["PyasicDriver", "pyasic_makes"]

_READ_FIELDS = (
    "HASHRATE", "EXPECTED_HASHRATE", "FANS", "HASHBOARDS", "UPTIME", "IS_MINING",
    "ERRORS", "WATTAGE", "WATTAGE_LIMIT",
)  # fmt: skip
_ID_FIELDS = ("MAC", "SERIAL_NUMBER", "FW_VERSION", "HOSTNAME")
_CONF_MODES = {PowerMode.NORMAL: 0, PowerMode.SLEEP: 1, PowerMode.LOW: 3}
_CONFIRM_TRIES = 3
_CONFIRM_PAUSE_S = 0.5


def pyasic_makes() -> dict[str, Make]:
    """pyasic's make names (lower case, no spaces) for the makes that register one."""
    return {s.pyasic_name: s.make for s in specs() if s.pyasic_name is not None}


def _rate_hs(value: Any) -> float | None:
    """pyasic's hashrate object (``rate`` in ``unit``, whose value is H/s per unit) in H/s."""
    if value is None:
        return None
    rate = getattr(value, "rate", None)
    per_unit = getattr(getattr(value, "unit", None), "value", None)
    if isinstance(rate, int | float) and isinstance(per_unit, int | float):
        return float(rate) * float(per_unit)
    return None


class PyasicDriver(DeviceBase):
    """One device, driven through pyasic. Marked "via pyasic" in the supported-devices table."""

    via = "pyasic"

    def _open(self) -> None:
        self.make = Make.ANTMINER  # until identify() learns the hardware's make
        self._miner: Any = None
        self._controls: frozenset[Control] = frozenset()

    @property
    def controls(self) -> frozenset[Control]:
        return self._controls

    @property
    def _host(self) -> str:
        return self.endpoint.host

    async def _call(self, what: str, call: Callable[[], Awaitable[Any]], slow: bool = False) -> Any:
        s = self._settings
        limit = s.connect_timeout_s + (s.write_timeout_s if slow else s.read_timeout_s)
        try:
            async with asyncio.timeout(limit):
                return await call()
        except TimeoutError:
            raise DeviceTimeout(self._host, f"pyasic {what}: no answer within {limit}s") from None
        except DriverError:
            raise
        except OSError as exc:
            raise ConnectionFailed(self._host, f"pyasic {what}: {exc!r}") from exc
        except Exception as exc:
            raise ProtocolError(self._host, f"pyasic {what}: {exc!r}"[:300]) from exc

    async def _data(self, fields: tuple[str, ...]) -> Any:
        options = pyasic_module("pyasic.miners.data").DataOptions
        include = [getattr(options, name) for name in fields]
        miner = await self._ready()
        return await self._call("get_data", lambda: miner.get_data(include=include))

    async def _ready(self) -> Any:
        if self._miner is None:
            await self.identify()
        return self._miner

    def _has_conf(self) -> bool:
        web = getattr(self._miner, "web", None)
        return hasattr(web, "get_miner_conf") and hasattr(web, "set_miner_conf")

    async def identify(self) -> DeviceInfo:
        pyasic = load_pyasic()
        miner = await self._call("get_miner", lambda: pyasic.get_miner(self._host))
        if miner is None:
            raise ConnectionFailed(self._host, "pyasic recognises no miner at this address")
        if self._credentials is not None and getattr(miner, "web", None) is not None:
            miner.web.username = self._credentials.username
            miner.web.pwd = self._credentials.password
        self._miner = miner
        raw_make = str(getattr(miner, "make", "") or "").lower().replace(" ", "")
        make = pyasic_makes().get(raw_make)
        if make is None:
            raise UnsupportedError(
                self._host, f"pyasic found {raw_make!r} hardware, not a known make"
            )
        self.make = make
        model = str(getattr(miner, "model", "") or "")
        self._lookup_spec(model)
        controls = {Control.SLEEP, Control.WAKE, Control.REBOOT}
        if self._has_conf():
            controls.add(Control.POWER_MODE)
        elif getattr(miner, "supports_autotuning", False):
            controls.add(Control.POWER_TARGET)
        self._controls = frozenset(controls)
        data = await self._data(_ID_FIELDS)
        self._info = DeviceInfo(
            make=make,
            model=self._spec.model if self._spec else model,
            firmware=getattr(data, "fw_ver", None),
            serial=getattr(data, "serial_number", None),
            mac=getattr(data, "mac", None),
            hostname=getattr(data, "hostname", None),
        )
        return self._info

    async def read(self) -> Telemetry:
        data = await self._data(_READ_FIELDS)
        hashrate = _rate_hs(getattr(data, "hashrate", None))
        fans = tuple(int(f.speed) for f in (data.fans or ()) if getattr(f, "speed", None))
        uptime = data.uptime
        if hashrate is None and uptime is None and not fans:
            # pyasic answers an unreachable or garbled device with an empty record.
            raise ConnectionFailed(self._host, "pyasic returned no data")
        boards = tuple(
            HashBoard(
                index=int(b.slot),
                hashrate_hs=_rate_hs(b.hashrate),
                chips=b.chips,
                board_temp_c=b.temp,
                chip_temp_c=b.chip_temp,
                serial=b.serial_number,
            )
            for b in (data.hashboards or ())
        )
        state = self._state(data.is_mining, hashrate, uptime)
        return Telemetry(
            taken_at=self._settings.clock.time(),
            mining_state=state,
            hashrate_hs=hashrate,
            power_w=float(data.wattage) if data.wattage is not None else None,
            power_limit_w=float(data.wattage_limit) if data.wattage_limit is not None else None,
            power_mode=PowerMode.SLEEP if state is MiningState.SLEEPING else None,
            nameplate_hashrate_hs=_rate_hs(data.expected_hashrate),
            board_temps_c=tuple(b.board_temp_c for b in boards if b.board_temp_c is not None),
            chip_temps_c=tuple(b.chip_temp_c for b in boards if b.chip_temp_c is not None),
            fans_rpm=fans,
            boards=boards,
            uptime_s=float(uptime) if uptime is not None else None,
            errors=tuple(
                DeviceError(code=str(getattr(e, "error_code", e))) for e in data.errors or ()
            ),
        )

    def _state(self, is_mining: Any, hashrate: float | None, uptime: Any) -> MiningState:
        if is_mining is False:
            return MiningState.SLEEPING
        if hashrate is None:
            return MiningState.UNKNOWN
        if hashrate <= 0:
            young = isinstance(uptime, int | float) and uptime < 240
            return MiningState.STARTING if young else MiningState.FAULT
        return MiningState.HASHING

    # Writes -----------------------------------------------------------------

    async def _reboot(self, command: Command) -> CommandOutcome:
        if not await self._call("reboot", self._miner.reboot, slow=True):
            raise WriteRejected(self._host, "pyasic reboot returned False")
        return CommandOutcome(command=command, applied=True, detail="reboot acknowledged")

    async def _sleep(self, command: Command) -> CommandOutcome:
        return await self._mining(command, on=False)

    async def _wake(self, command: Command) -> CommandOutcome:
        return await self._mining(command, on=True)

    async def _mining(self, command: Command, *, on: bool) -> CommandOutcome:
        if self._has_conf():
            return await self._conf_mode(command, 0 if on else 1)
        call = self._miner.resume_mining if on else self._miner.stop_mining
        if not await self._call("stop/resume", call, slow=True):
            raise WriteRejected(self._host, "pyasic stop/resume_mining returned False")
        return await self._confirm(command, lambda d: d.is_mining is on, ("IS_MINING",))

    async def _set_power_mode(self, command: SetPowerMode) -> CommandOutcome:
        if command.mode is PowerMode.HIGH:
            raise UnsupportedError(self._host, "no dependable high mode through pyasic")
        return await self._conf_mode(command, _CONF_MODES[command.mode])

    def _require(self, control: Control, command: Command) -> None:
        if control not in self._controls:
            raise UnsupportedError(self._host, f"{command!r} is not offered through pyasic here")

    async def _set_power_target(self, command: SetPowerTarget) -> CommandOutcome:
        if Control.POWER_TARGET in self._controls:
            watts = round(command.watts)
            ok = await self._call("set_power_limit", lambda: self._miner.set_power_limit(watts))
            if not ok:
                raise WriteRejected(self._host, "pyasic set_power_limit returned False")
            return await self._confirm(
                command, lambda d: d.wattage_limit == watts, ("WATTAGE_LIMIT",)
            )
        if Control.POWER_MODE not in self._controls or self._spec is None:
            raise UnsupportedError(self._host, "no power target and no mode to substitute")
        mode = PowerMode.LOW if command.watts < self._spec.nameplate_w else PowerMode.NORMAL
        outcome = await self._conf_mode(command, _CONF_MODES[mode])
        note = f"no power target through pyasic here; {mode.value} mode is the nearest"
        return CommandOutcome(
            command=command,
            applied=outcome.applied,
            detail=outcome.detail,
            substituted=SetPowerMode(mode),
            notes=(note,),
        )

    async def _conf_mode(self, command: Command, target: int) -> CommandOutcome:
        web = self._miner.web
        try:
            conf = await self._call("get_miner_conf", web.get_miner_conf)
        except DriverError as exc:
            raise ConfigReadError(
                self._host, f"config read failed, nothing written: {exc}"
            ) from exc
        pools = conf.get("pools") if isinstance(conf, dict) else None
        if not isinstance(pools, list) or not any(
            isinstance(p, dict) and p.get("url") for p in pools
        ):
            raise ConfigReadError(self._host, "config read returned no pools; refusing to write")
        if str(conf.get("bitmain-work-mode")) == str(target):
            return CommandOutcome(
                command=command, applied=True, detail=f"already in work mode {target}"
            )
        body = {**conf, "miner-mode": target, "bitmain-work-mode": str(target)}
        reply = await self._call("set_miner_conf", lambda: web.set_miner_conf(body), slow=True)
        if not reply:
            raise WriteRejected(self._host, f"set_miner_conf answered {reply!r}")
        for attempt in range(_CONFIRM_TRIES):
            if attempt:
                await asyncio.sleep(_CONFIRM_PAUSE_S)
            after = await self._call("get_miner_conf", web.get_miner_conf)
            if isinstance(after, dict) and str(after.get("bitmain-work-mode")) == str(target):
                return CommandOutcome(
                    command=command, applied=True, detail=f"work mode {target} confirmed"
                )
        raise WriteNotApplied(self._host, f"work mode {target} acknowledged but not read back")

    async def _confirm(
        self, command: Command, holds: Callable[[Any], bool], fields: tuple[str, ...]
    ) -> CommandOutcome:
        for attempt in range(_CONFIRM_TRIES):
            if attempt:
                await asyncio.sleep(_CONFIRM_PAUSE_S)
            if holds(await self._data(fields)):
                return CommandOutcome(
                    command=command, applied=True, detail="confirmed by read-back"
                )
        raise WriteNotApplied(self._host, f"{command!r} acknowledged but not read back")

    async def close(self) -> None:
        self._miner = None  # pyasic opens a client per request: nothing to close
