"""The two Whatsminer API generations behind one small interface.

:class:`V2Backend` (4028, firmware before 2024-11) and :class:`V3Backend` (4433)
both identify, read, read back the setting that confirms a write, and send the
writes the device layer needs. The device layer never sees which one it holds.
"""

from __future__ import annotations

import asyncio
import logging
import re
from dataclasses import replace
from typing import Protocol

from drivers.cgminer.aio import gather_all
from drivers.errors import (
    CommandDenied,
    DeviceStatusError,
    DeviceTimeout,
    DriverError,
    ProtocolError,
)
from drivers.identity import UnitIdentity
from drivers.types import PowerMode
from drivers.whatsminer import parse_v2, parse_v3
from drivers.whatsminer.api_v2 import V2Api
from drivers.whatsminer.api_v3 import V3Api
from drivers.whatsminer.records import MinerSetting, Reading

__all__ = ["Backend", "V2Backend", "V3Backend"]

_log = logging.getLogger(__name__)

_V2_MODE_COMMANDS = {
    PowerMode.LOW: "set_low_power",
    PowerMode.NORMAL: "set_normal_power",
    PowerMode.HIGH: "set_high_power",
}
_API_NUMBERS = re.compile(r"(\d+)\.(\d+)")


class Backend(Protocol):
    api: str  # "v2" | "v3", for logs and DeviceInfo

    async def identify(self) -> UnitIdentity: ...

    async def read(self) -> tuple[Reading | None, MinerSetting]:
        """The measurements (None while a stopped unit will not report them) and the setting."""
        ...

    async def setting(self) -> MinerSetting: ...

    async def sleep(self) -> None: ...

    async def wake(self) -> None: ...

    async def set_power_limit(self, watts: int) -> None: ...

    async def set_power_mode(self, mode: PowerMode) -> bool:
        """True when the unit acknowledged; False when it applied without answering."""
        ...

    async def reboot(self) -> None: ...

    async def close(self) -> None: ...


def _api_at_least(api: str | None, major: int, minor: int) -> bool:
    match = _API_NUMBERS.search(api or "")
    return match is None or (int(match.group(1)), int(match.group(2))) >= (major, minor)


class V2Backend:
    api = "v2"

    def __init__(self, api: V2Api) -> None:
        self._api = api
        self._devs = "edevs"  # falls back to "devs" once on firmware without edevs
        self._error_codes = True  # get_error_code exists from API 2.0.1

    @property
    def host(self) -> str:
        return self._api.host

    async def version(self) -> UnitIdentity:
        return parse_v2.parse_version(self.host, await self._api.flat("get_version"))

    async def identify(self) -> UnitIdentity:
        details, version = await gather_all([self._model(), self._version_or_none()])
        assert isinstance(details, str)
        try:
            info = parse_v2.parse_miner_info(self.host, await self._api.miner_info())
        except (DeviceStatusError, CommandDenied, ProtocolError) as exc:
            _log.debug("%s: get_miner_info unavailable: %s", self.host, exc.message)
            info = UnitIdentity(model=None)
        ver = version if isinstance(version, UnitIdentity) else UnitIdentity(model=None)
        self._error_codes = _api_at_least(ver.api_version, 2, 1)
        return replace(info, model=details, firmware=ver.firmware, api_version=ver.api_version)

    async def _model(self) -> str:
        reply = (await self._api.report("devdetails"))["devdetails"]
        model = parse_v2.parse_devdetails(self.host, reply)
        if model is None:
            raise ProtocolError(self.host, "devdetails names no model")
        return model

    async def _version_or_none(self) -> UnitIdentity | str:
        try:
            return await self.version()
        except (DeviceStatusError, CommandDenied, ProtocolError) as exc:
            return exc.message

    async def _report(self) -> Reading:
        try:
            replies = await self._api.report("summary", self._devs)
        except (DeviceStatusError, CommandDenied):
            if self._devs == "devs":
                raise
            _log.debug("%s: no edevs; using devs", self.host)
            self._devs = "devs"
            replies = await self._api.report("summary", self._devs)
        reading = parse_v2.parse_summary(self.host, replies["summary"])
        boards, ramp_done = parse_v2.parse_devs(self.host, replies[self._devs])
        return replace(reading, boards=boards, ramp_done=ramp_done)

    async def _errors(self) -> Reading | None:
        if not self._error_codes:
            return None
        try:
            reply = await self._api.flat("get_error_code")
        except (DeviceStatusError, CommandDenied):
            self._error_codes = False
            return None
        errors = parse_v2.parse_error_code(self.host, reply)
        return Reading(errors=errors)

    async def read(self) -> tuple[Reading | None, MinerSetting]:
        report, status, errors = await asyncio.gather(
            self._report(), self._api.flat("status"), self._errors(), return_exceptions=True
        )
        for outcome in (status, report, errors):
            if isinstance(outcome, BaseException) and not isinstance(outcome, DriverError):
                raise outcome
        if isinstance(status, BaseException):
            raise status
        setting, _ = parse_v2.parse_status(self.host, status)
        if isinstance(report, BaseException):
            if setting.mining_off and not isinstance(report, DeviceTimeout):
                return None, setting  # btminer is suspended: no summary while powered off
            raise report
        if isinstance(errors, Reading) and errors.errors:
            report = replace(report, errors=report.errors + errors.errors)
        return report, setting

    async def setting(self) -> MinerSetting:
        setting, _ = parse_v2.parse_status(self.host, await self._api.flat("status"))
        if setting.power_limit_w is None and not setting.mining_off:
            # API 1.4 has no power_limit_set; the summary carries the limit.
            reply = (await self._api.report("summary"))["summary"]
            limit = parse_v2.parse_summary(self.host, reply).power_limit_w
            setting = replace(setting, power_limit_w=limit)
        return setting

    async def sleep(self) -> None:
        # respbefore: answer first, then stop; otherwise the reply races the shutdown.
        await self._api.write("power_off", {"respbefore": "true"})

    async def wake(self) -> None:
        await self._api.write("power_on")

    async def set_power_limit(self, watts: int) -> None:
        await self._api.write("adjust_power_limit", {"power_limit": str(watts)})

    async def set_power_pct(self, percent: int) -> None:
        """Temporary trim relative to current power, without a restart (not yet used by apply)."""
        await self._api.write("set_power_pct", {"percent": str(percent)})

    async def set_power_mode(self, mode: PowerMode) -> bool:
        return await self._api.write(_V2_MODE_COMMANDS[mode], may_not_reply=True)

    async def reboot(self) -> None:
        await self._api.write("reboot", may_not_reply=True)

    async def close(self) -> None:
        return None  # one connection per request: nothing is held


class V3Backend:
    api = "v3"

    def __init__(self, api: V3Api) -> None:
        self._api = api

    @property
    def host(self) -> str:
        return self._api.host

    async def identify(self) -> UnitIdentity:
        identity, _, _, _ = parse_v3.parse_device_info(
            self.host, await self._api.get("get.device.info")
        )
        if not identity.model:
            raise ProtocolError(self.host, "get.device.info names no model")
        return identity

    async def read(self) -> tuple[Reading | None, MinerSetting]:
        # Sequential on the one kept connection: the unit serves ten clients at most.
        # device.info unfiltered: one request gives both ``working`` and the error list.
        _, working, _, errors = parse_v3.parse_device_info(
            self.host, await self._api.get("get.device.info")
        )
        summary = parse_v3.parse_summary(
            self.host, await self._api.get("get.miner.status", "summary")
        )
        boards = parse_v3.parse_edevs(self.host, await self._api.get("get.miner.status", "edevs"))
        # The summary carries no power mode; the setting does (and the limit as set).
        setting = parse_v3.parse_miner_setting(self.host, await self._api.get("get.miner.setting"))
        reading = replace(summary, boards=boards, errors=errors, power_mode=setting.power_mode)
        return reading, replace(setting, mining_off=working.mining_off)

    async def setting(self) -> MinerSetting:
        _, working, _, _ = parse_v3.parse_device_info(
            self.host, await self._api.get("get.device.info", "miner")
        )
        setting = parse_v3.parse_miner_setting(self.host, await self._api.get("get.miner.setting"))
        return replace(setting, mining_off=working.mining_off)

    async def sleep(self) -> None:
        await self._api.set("set.miner.service", "stop")

    async def wake(self) -> None:
        await self._api.set("set.miner.service", "start")

    async def set_power_limit(self, watts: int) -> None:
        await self._api.set("set.miner.power_limit", watts)

    async def set_power_percent(self, percent: int) -> None:
        """Temporary trim (not yet used by apply)."""
        await self._api.set("set.miner.power_percent", percent)

    async def set_power_mode(self, mode: PowerMode) -> bool:
        await self._api.set_power_mode(mode.value)
        return True

    async def reboot(self) -> None:
        await self._api.set("set.system.reboot", None, idempotent=False)

    async def close(self) -> None:
        await self._api.close()
