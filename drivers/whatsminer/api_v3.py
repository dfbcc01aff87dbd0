"""Whatsminer API v3 on 4433: reads, and writes signed with a salted SHA-256 token.

The salt comes from ``get.device.info`` (param ``salt``) and is cached; a write
the device refuses as a token/auth problem drops the salt, fetches it again and
is retried once (the salt changes when the password does). Each write carries
``ts``, ``account`` and ``token = base64(sha256(cmd + password + salt + ts))[:8]``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from typing import Any

from drivers.errors import AuthError, ProtocolError, UnsupportedError
from drivers.whatsminer.crypto import v3_token
from drivers.whatsminer.parse_v3 import check_reply, parse_device_info
from drivers.whatsminer.transport_v3 import FrameTransport

__all__ = ["V3Api"]

_log = logging.getLogger(__name__)
_POWER_MODE_COMMANDS = ("set.miner.power_mode", "set.miner.mode")  # pyasic, asic-rs


class V3Api:
    __slots__ = ("_account", "_mode_command", "_password", "_salt", "transport")

    def __init__(self, transport: FrameTransport, account: str, password: str) -> None:
        self.transport = transport
        self._account = account
        self._password = password
        self._salt: str | None = None
        self._mode_command: str | None = None  # learnt: which power-mode name this firmware takes

    @property
    def host(self) -> str:
        return self.transport.host

    async def get(self, command: str, param: str | None = None) -> Mapping[str, Any]:
        message: dict[str, Any] = {"cmd": command}
        if param is not None:
            message["param"] = param
        reply = await self.transport.request(message)
        return check_reply(self.host, command, reply)

    async def set(self, command: str, param: Any, *, idempotent: bool = True) -> None:
        """One signed write; raises the device's refusal as a typed error."""
        for attempt in (1, 2):
            salt = await self._get_salt()
            ts = int(time.time())
            message = {
                "cmd": command,
                "param": param,
                "ts": ts,
                "account": self._account,
                "token": v3_token(command, self._password, salt, ts),
            }
            reply = await self.transport.request(message, retry_stale=idempotent)
            try:
                check_reply(self.host, command, reply)
            except AuthError:
                if attempt == 2:
                    raise
                _log.debug(
                    "%s: %s refused as unauthorised; fetching the salt again", self.host, command
                )
                self._salt = None
                continue
            return

    async def set_power_mode(self, mode: str) -> None:
        """Firmware disagree on the command's name; remember the one that worked."""
        names = (self._mode_command,) if self._mode_command else _POWER_MODE_COMMANDS
        last: UnsupportedError | None = None
        for name in names:
            try:
                await self.set(name, mode)
            except UnsupportedError as exc:
                last = exc
                continue
            self._mode_command = name
            return
        assert last is not None
        raise last

    async def _get_salt(self) -> str:
        if self._salt is None:
            _, _, salt, _ = parse_device_info(self.host, await self.get("get.device.info", "salt"))
            if not salt:
                raise ProtocolError(self.host, "get.device.info salt: no salt in the reply")
            self._salt = salt
        return self._salt

    async def close(self) -> None:
        await self.transport.close()
