"""Typed requests to one stock Antminer: transports, decoding and the retry policy.

Retry by exception type, once, and only where it is safe and cheap: an idempotent
GET that failed with :class:`ConnectionFailed` (typically a kept-alive connection
the device closed between polls). Timeouts are never retried (that would double
the wait on a dead unit), and POSTs are never retried (a write is not repeated
behind the caller's back).
"""

from __future__ import annotations

import json
from typing import Any

from drivers.antminer.protocol import (
    parse_miner_conf,
    parse_set_reply,
    parse_stats,
    parse_summary,
    parse_system_info,
    parse_version,
    parse_web_stats,
    parse_web_summary,
)
from drivers.antminer.records import (
    MinerConf,
    StatsReading,
    SummaryReading,
    SystemInfo,
    VersionInfo,
)
from drivers.antminer.transport import WebTransport
from drivers.cgminer import CgminerRpc, load_json
from drivers.errors import ConnectionFailed

__all__ = ["AntminerApi"]


class AntminerApi:
    __slots__ = ("host", "rpc", "web")

    def __init__(self, web: WebTransport, rpc: CgminerRpc) -> None:
        self.host = web.host
        self.web = web
        self.rpc = rpc

    async def _get(self, cgi: str) -> Any:
        try:
            raw = await self.web.get(cgi)
        except ConnectionFailed:
            raw = await self.web.get(cgi)
        return load_json(self.host, raw)

    async def system_info(self) -> SystemInfo:
        return parse_system_info(self.host, await self._get("get_system_info"))

    async def web_stats(self) -> StatsReading:
        return parse_web_stats(self.host, await self._get("stats"))

    async def web_summary(self) -> SummaryReading:
        return parse_web_summary(self.host, await self._get("summary"))

    async def miner_conf(self) -> MinerConf:
        return parse_miner_conf(self.host, await self._get("get_miner_conf"))

    async def set_miner_conf(self, body: dict[str, Any]) -> None:
        payload = json.dumps(body, separators=(",", ":")).encode()
        raw = await self.web.post("set_miner_conf", payload, slow=True)
        parse_set_reply(self.host, load_json(self.host, raw))

    async def reboot(self) -> None:
        """Any 200 is the acknowledgement; the unit then goes offline for minutes."""
        await self.web.post("reboot", b"{}")

    async def rpc_version(self) -> VersionInfo:
        return parse_version(self.host, await self.rpc.command("version"))

    async def rpc_stats_summary(self) -> tuple[StatsReading, SummaryReading]:
        replies = await self.rpc.commands("stats", "summary")
        return parse_stats(self.host, replies["stats"]), parse_summary(
            self.host, replies["summary"]
        )

    async def close(self) -> None:
        await self.web.close()
