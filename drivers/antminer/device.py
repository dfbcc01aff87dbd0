"""The stock-firmware Antminer as a :class:`drivers.base.MinerDriver`.

Reads take two concurrent requests over the kept-alive digest session:
``stats.cgi`` (rates, fans, chains and the work mode, which is what tells a
sleeping unit from a broken one) and ``summary.cgi`` (the firmware's own health
flags). Firmware without ``stats.cgi`` falls back, once and for good, to RPC
``stats+summary`` plus ``get_miner_conf`` for the mode.

Writes go through set_miner_conf as a read-modify-write of the whole config and
are confirmed by reading the config back. Stock firmware reports no power, so
power is estimated from the model table and flagged ``power_estimated``.
"""

from __future__ import annotations

import logging
from dataclasses import replace

from drivers._device_base import DeviceBase
from drivers.antminer.api import AntminerApi
from drivers.antminer.make import SPEC
from drivers.antminer.records import (
    MinerConf,
    StatsReading,
    SummaryReading,
    SystemInfo,
    WorkMode,
)
from drivers.antminer.state import estimate_power, mining_state, power_mode
from drivers.antminer.transport import WebTransport
from drivers.cgminer import CgminerRpc, RpcTransport
from drivers.cgminer.aio import gather_pair
from drivers.errors import (
    ConfigReadError,
    DriverError,
    ProtocolError,
    UnsupportedError,
    WriteNotApplied,
)
from drivers.identity import Claim, Evidence, decide_model
from drivers.models import normalise_model_name
from drivers.types import (
    Command,
    CommandOutcome,
    Control,
    DeviceError,
    DeviceInfo,
    MiningState,
    PowerMode,
    SetPowerMode,
    SetPowerTarget,
    Telemetry,
)

__all__ = ["AntminerDriver"]

_WEB, _RPC = "web get_system_info", "rpc version"
_MODE_VALUES = {PowerMode.NORMAL: WorkMode.NORMAL, PowerMode.LOW: WorkMode.LOW}


class AntminerDriver(DeviceBase):
    """One stock Antminer (S19 and S21 families)."""

    make = SPEC.make
    log_prefix = "antminer "

    def _open(self) -> None:
        endpoint, settings = self.endpoint, self._settings
        login = self._credentials or SPEC.default_credentials
        web = WebTransport(endpoint.host, endpoint.port("web", 80), login, settings)
        rpc = RpcTransport.for_endpoint(endpoint, settings)
        self._api = AntminerApi(web, CgminerRpc(rpc))
        self._web_stats = True  # False once the firmware turned out to lack stats.cgi
        self._woke_at: float | None = None

    async def identify(self) -> DeviceInfo:
        """The model, from the web and the RPC; if they disagree, from the boards (identity.py)."""
        try:
            info = await self._api.system_info()
        except UnsupportedError:  # no get_system_info.cgi: the RPC still names the model
            info = SystemInfo(
                model=None, mac=None, hostname=None, serial=None, firmware=None, ip=None
            )
        claims = [] if info.model is None else [Claim(source=_WEB, model=info.model)]
        try:
            rpc_model = (await self._api.rpc_version()).model
        except DriverError as exc:
            if not claims:
                raise
            self._log.debug("RPC version unreadable (%s); the web's model stands", exc.message)
            rpc_model = None
        if rpc_model is not None:
            claims.append(Claim(source=_RPC, model=rpc_model))
        if not claims:
            raise ProtocolError(
                self.endpoint.host, "neither get_system_info nor version names a model"
            )
        agree = len({normalise_model_name(c.model) for c in claims}) == 1
        verdict = decide_model(SPEC.make, claims, None if agree else await self._evidence())
        if self._lookup_spec(verdict.model) is None:
            self._log.warning(
                "model %r is not in the model table; power will not be estimated", verdict.model
            )
        self._note_identity(verdict.conflict)
        self._info = DeviceInfo(
            make=SPEC.make,
            model=verdict.model,
            firmware=info.firmware,
            serial=info.serial,
            mac=info.mac,
            hostname=info.hostname,
            identity_conflict=verdict.conflict,
        )
        return self._info

    async def _evidence(self) -> Evidence | None:
        """Boards, chips and hashrate from a stats read; None if it cannot be read now."""
        try:
            stats, _ = await self._fetch()
        except DriverError as exc:
            self._log.warning("identity sources disagree and stats are unreadable: %s", exc)
            return None
        chips = tuple(b.chips for b in stats.boards if b.chips)
        measured = stats.hashrate_5s_hs if stats.hashrate_5s_hs else None
        rate = measured or stats.nameplate_hs
        return Evidence(
            boards=len(chips) if chips else None,
            chips_per_board=chips,
            hashrate_ths=None if not rate else rate / 1e12,
        )

    async def read(self) -> Telemetry:
        try:
            await self._identified()
            stats, summary = await self._fetch()
        except DriverError as exc:
            self._note_failure(exc)
            raise
        self._note_recovery(logging.DEBUG)
        return self._telemetry(stats, summary)

    async def _fetch(self) -> tuple[StatsReading, SummaryReading]:
        if self._web_stats:
            try:
                return await gather_pair(self._api.web_stats(), self._api.web_summary())
            except UnsupportedError:
                self._log.info("no stats.cgi on this firmware; reading over RPC from now on")
                self._web_stats = False
        stats, summary = await self._api.rpc_stats_summary()
        if stats.work_mode is None:
            conf = await self._api.miner_conf()
            stats = _with_mode(stats, conf.work_mode)
        return stats, summary

    def _telemetry(self, stats: StatsReading, summary: SummaryReading) -> Telemetry:
        now = self._settings.clock.time()
        spec = self._spec
        hashrate = (
            stats.hashrate_5s_hs if stats.hashrate_5s_hs is not None else summary.hashrate_5s_hs
        )
        nameplate = (
            stats.nameplate_hs or summary.nameplate_hs or (spec.nameplate_hs if spec else None)
        )
        elapsed = stats.elapsed_s if stats.elapsed_s is not None else summary.elapsed_s
        if stats.work_mode == WorkMode.SLEEP:
            self._woke_at = None
        elif self._last_state is MiningState.SLEEPING:
            self._woke_at = self._settings.clock.monotonic()
        state = mining_state(
            stats.work_mode, hashrate, nameplate, elapsed, spec, self._since_wake()
        )
        self._note_state(state)
        if state is MiningState.HASHING:
            self._woke_at = None
        power = estimate_power(spec, state, hashrate)
        return Telemetry(
            taken_at=now,
            mining_state=state,
            hashrate_hs=hashrate,
            power_w=power,
            power_estimated=power is not None,
            power_mode=power_mode(stats.work_mode),
            nameplate_hashrate_hs=nameplate,
            board_temps_c=tuple(b.board_temp_c for b in stats.boards if b.board_temp_c is not None),
            chip_temps_c=tuple(b.chip_temp_c for b in stats.boards if b.chip_temp_c is not None),
            fans_rpm=stats.fans_rpm,
            boards=stats.boards,
            uptime_s=elapsed,
            errors=tuple(
                DeviceError(code=f"{p.kind}:{p.code or p.status}", message=p.message)
                for p in summary.problems
            ),
        )

    def _since_wake(self) -> float | None:
        return None if self._woke_at is None else self._settings.clock.monotonic() - self._woke_at

    async def _reboot(self, command: Command) -> CommandOutcome:
        await self._api.reboot()
        self._log.info("reboot acknowledged")
        return CommandOutcome(command=command, applied=True, detail="reboot acknowledged")

    async def _sleep(self, command: Command) -> CommandOutcome:
        return await self._write_mode(command, WorkMode.SLEEP)

    async def _wake(self, command: Command) -> CommandOutcome:
        return await self._write_mode(command, WorkMode.NORMAL)

    async def _set_power_mode(self, command: SetPowerMode) -> CommandOutcome:
        if command.mode is PowerMode.HIGH:
            # miner-mode 2 means different things on different models; never guess it.
            normal = SetPowerMode(PowerMode.NORMAL)
            outcome = await self._write_mode(command, WorkMode.NORMAL)
            return _substituted(outcome, normal, "stock firmware has no dependable high mode")
        return await self._write_mode(command, _MODE_VALUES[command.mode])

    async def _set_power_target(self, command: SetPowerTarget) -> CommandOutcome:
        if Control.POWER_MODE not in self.controls or self._spec is None:
            raise UnsupportedError(
                self.endpoint.host, "no power target, and no model data to pick a mode"
            )
        mode = PowerMode.LOW if command.watts < self._spec.nameplate_w else PowerMode.NORMAL
        note = (
            f"stock firmware has no power target; {mode.value} mode is the nearest "
            f"to {command.watts:.0f} W (nameplate {self._spec.nameplate_w:.0f} W)"
        )
        outcome = await self._write_mode(command, _MODE_VALUES[mode])
        return _substituted(outcome, SetPowerMode(mode), note)

    async def _write_mode(self, command: Command, target: int) -> CommandOutcome:
        host = self.endpoint.host
        try:
            before = await self._api.miner_conf()
        except DriverError as exc:
            raise ConfigReadError(
                host, f"get_miner_conf failed, nothing written: {exc.message}"
            ) from exc
        if not before.has_pools:
            raise ConfigReadError(host, "get_miner_conf returned no pools; refusing to write")
        if before.work_mode == target:
            return CommandOutcome(
                command=command, applied=True, detail=f"already in work mode {target}"
            )
        await self._api.set_miner_conf(before.write_body(target))
        after = await self._api.miner_conf()
        return self._confirm(command, target, before, after)

    def _confirm(
        self, command: Command, target: int, before: MinerConf, after: MinerConf
    ) -> CommandOutcome:
        notes: tuple[str, ...] = ()
        if after.pools != before.pools:
            self._log.warning("pool settings changed across the mode write")
            notes = ("pool settings read back differently after the write",)
        if after.work_mode is None:
            return CommandOutcome(
                command=command,
                applied=False,
                detail="firmware does not report its work mode; confirm by telemetry",
                notes=notes,
            )
        if after.work_mode != target:
            raise WriteNotApplied(
                self.endpoint.host,
                f"set work mode {target}, device still reports {after.work_mode}",
            )
        self._log.info("work mode %s -> %s", before.work_mode, target)
        if target != WorkMode.SLEEP and before.work_mode == WorkMode.SLEEP:
            self._woke_at = self._settings.clock.monotonic()
        return CommandOutcome(
            command=command, applied=True, detail=f"work mode {target} confirmed", notes=notes
        )

    async def close(self) -> None:
        await self._api.close()


def _substituted(outcome: CommandOutcome, used: Command, note: str) -> CommandOutcome:
    """``outcome`` of writing ``used`` in place of the command asked for, and why."""
    return replace(outcome, substituted=used, notes=(note, *outcome.notes))


def _with_mode(stats: StatsReading, mode: int | None) -> StatsReading:
    return replace(stats, work_mode=mode)
