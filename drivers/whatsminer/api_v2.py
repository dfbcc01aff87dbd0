"""Whatsminer API v2 on 4028: plain reads and encrypted, token-signed writes.

Reads reuse :mod:`drivers.cgminer` (one request per connection, JSON repair,
``+`` joins where allowed). Writes follow docs/protocols.md §2.1 steps 1-7: one
``get_token`` gives salt, newsalt and time; the derived signature and AES key
are reused for 30 minutes (as pyasic does) and dropped at once when the device
answers 135 (token check failed) or 136 (token used too often), after which the
write is retried once with a fresh token.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Mapping
from typing import Any

from drivers.cgminer import CgminerRpc, RpcTransport, check_envelope, load_json
from drivers.errors import (
    AuthError,
    CommandDenied,
    DeviceStatusError,
    DeviceTimeout,
    ProtocolError,
    UnsupportedError,
    WriteRejected,
    WritesDisabled,
)
from drivers.whatsminer.crypto import DecryptError, V2Token, aes_decrypt, aes_encrypt, v2_token
from drivers.whatsminer.parse_v3 import WRITES_DISABLED_HELP

__all__ = ["TOKEN_TTL_S", "V2Api"]

_log = logging.getLogger(__name__)

TOKEN_TTL_S = 30 * 60.0
_TOKEN_RETRY_CODES = frozenset({135, 136})
_DENIED_CODES = frozenset({45})
_INVALID_CODES = frozenset({14})
_MINER_INFO_FIELDS = "ip,proto,netmask,gateway,dns,hostname,mac,ledstat"


def _code(exc: DeviceStatusError | CommandDenied) -> int | None:
    try:
        return int(exc.device_code) if exc.device_code is not None else None
    except ValueError:
        return None


class V2Api:
    """One unit's 4028 port, for both the read and the privileged write path."""

    __slots__ = ("_password", "_token", "_token_at", "rpc")

    def __init__(self, transport: RpcTransport, password: str) -> None:
        self.rpc = CgminerRpc(transport)
        self._password = password
        self._token: V2Token | None = None
        self._token_at = 0.0

    @property
    def host(self) -> str:
        return self.rpc.host

    async def report(self, *names: str) -> dict[str, dict[str, Any]]:
        """cgminer-shaped report commands (summary, devs, edevs, devdetails, pools)."""
        return await self.rpc.commands(*names)

    async def flat(self, command: str, **params: str) -> dict[str, Any]:
        """A Whatsminer-specific read (get_version, status, get_psu, …): the checked reply."""
        raw = await self.rpc.transport.exchange(_message({"cmd": command, **params}))
        return check_envelope(self.host, command, load_json(self.host, raw))

    async def miner_info(self) -> dict[str, Any]:
        return await self.flat("get_miner_info", info=_MINER_INFO_FIELDS)

    # Writes ---------------------------------------------------------------

    async def write(
        self, command: str, params: Mapping[str, str] | None = None, *, may_not_reply: bool = False
    ) -> bool:
        """Send one encrypted command; True when the device acknowledged it.

        ``may_not_reply``: firmware may apply the command without answering
        (set_low/normal/high_power); a timeout then returns False instead of
        raising, and the caller confirms by read-back.
        """
        for attempt in (1, 2):
            token = await self._session_token()
            body = json.dumps({"cmd": command, **(params or {}), "token": token.sign})
            wire = _message({"enc": 1, "data": aes_encrypt(token.aes_key, body.encode())})
            try:
                raw = await self.rpc.transport.exchange(wire)
            except DeviceTimeout:
                if may_not_reply:
                    _log.debug("%s: %s sent, no reply (expected of it)", self.host, command)
                    return False
                raise
            reply = self._decode(raw, token, command)
            try:
                check_envelope(self.host, command, reply)
            except (DeviceStatusError, CommandDenied) as exc:
                if _code(exc) in _TOKEN_RETRY_CODES and attempt == 1:
                    _log.debug("%s: token refused (%s); fetching a new one", self.host, exc.message)
                    self._token = None
                    continue
                raise self._write_error(command, exc) from exc
            return True
        raise AssertionError("unreachable: the second attempt returns or raises")

    def _write_error(self, command: str, exc: DeviceStatusError | CommandDenied) -> Exception:
        code = _code(exc)
        words = exc.device_msg.lower()
        if code in _TOKEN_RETRY_CODES:
            return AuthError(self.host, f"{command}: token refused twice; is the password right?")
        if code in _DENIED_CODES or "can't access" in words or "permission" in words:
            return WritesDisabled(
                self.host, f"{command}: {exc.device_msg!r}; {WRITES_DISABLED_HELP}"
            )
        if code in _INVALID_CODES or isinstance(exc, CommandDenied):
            return UnsupportedError(self.host, f"{command}: not accepted by this firmware")
        return WriteRejected(self.host, exc.message)

    async def _session_token(self) -> V2Token:
        now = time.monotonic()
        if self._token is not None and now - self._token_at < TOKEN_TTL_S:
            return self._token
        try:
            reply = await self.flat("get_token")
        except (DeviceStatusError, CommandDenied) as exc:
            raise self._write_error("get_token", exc) from exc
        msg = reply.get("Msg")
        if not isinstance(msg, dict) or not all(
            isinstance(msg.get(k), str | int) for k in ("salt", "newsalt", "time")
        ):
            raise ProtocolError(self.host, f"get_token: no salt/newsalt/time in {msg!r:.80}")
        self._token = v2_token(
            self._password, str(msg["salt"]), str(msg["newsalt"]), str(msg["time"])
        )
        self._token_at = now
        return self._token

    def _decode(self, raw: bytes, token: V2Token, command: str) -> Any:
        reply = load_json(self.host, raw)
        if isinstance(reply, dict) and isinstance(reply.get("enc"), str):
            try:
                text = aes_decrypt(token.aes_key, reply["enc"])
            except DecryptError as exc:
                raise ProtocolError(self.host, f"{command}: encrypted reply: {exc}") from None
            return load_json(self.host, text.encode())
        return reply  # token errors come back in clear


def _message(obj: Mapping[str, Any]) -> bytes:
    return json.dumps(obj, separators=(",", ":")).encode()
