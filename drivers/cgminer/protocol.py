"""CGMiner RPC framing and envelopes: JSON in, checked sections out, typed errors.

A reply is ``{"STATUS":[{"STATUS":"S","Code":11,"Msg":…}], "SUMMARY":[…], "id":1}``.
S and I are success; E, W and F become :class:`DeviceStatusError` (or
:class:`CommandDenied` for code 45, the stock firmware's answer to anything
outside its read-only command group). Firmware JSON habits (trailing NUL,
``,}``, raw newlines in strings, ``}{`` with no comma) are repaired, but only
after a strict parse has failed, so healthy replies pay nothing for it.
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any

from drivers.cgminer.aio import gather_all
from drivers.cgminer.transport import RpcTransport
from drivers.errors import CommandDenied, DeviceStatusError, ProtocolError

__all__ = ["CgminerRpc", "check_envelope", "load_json", "request_bytes"]

_log = logging.getLogger(__name__)

_TRAILING_COMMA = re.compile(r",\s*([}\]])")
_JUNK_TAIL = b"\x00 \t\r\n"
_OK_STATUSES = frozenset({"S", "I"})
_DENIED_CODE = 45


def load_json(host: str, raw: bytes) -> Any:
    """Decode one reply, repairing known firmware habits only when strict parsing fails."""
    body = raw.rstrip(_JUNK_TAIL)
    try:
        return json.loads(body)
    except (ValueError, RecursionError):
        pass
    text = body.decode("utf-8", errors="replace").replace("\x00", "")
    text = _TRAILING_COMMA.sub(r"\1", text).replace("}{", "},{")
    try:
        # strict=False admits the raw control characters (newlines) some firmware leaves in strings.
        return json.loads(text, strict=False)
    except (ValueError, RecursionError) as exc:
        raise ProtocolError(host, f"reply is not JSON ({exc}); begins {raw[:48]!r}") from None


def request_bytes(command: str, parameter: str | None = None) -> bytes:
    message: dict[str, str] = {"command": command}
    if parameter is not None:
        message["parameter"] = parameter
    return json.dumps(message, separators=(",", ":")).encode()


def check_envelope(host: str, command: str, reply: Any) -> dict[str, Any]:
    """Return ``reply`` if its STATUS says success; raise the device's error otherwise.

    Accepts both the cgminer list form and the flat form Whatsminer uses for its
    own commands (``{"STATUS":"S","Code":131,"Msg":…}``).
    """
    if not isinstance(reply, dict):
        raise ProtocolError(host, f"{command}: reply is {type(reply).__name__}, not an object")
    status_field = reply.get("STATUS")
    if isinstance(status_field, list) and status_field and isinstance(status_field[0], dict):
        status: dict[str, Any] = status_field[0]
    elif isinstance(status_field, str):
        status = reply
    else:
        raise ProtocolError(host, f"{command}: reply has no usable STATUS")
    flag = status.get("STATUS")
    if flag in _OK_STATUSES:
        return reply
    code = status.get("Code")
    msg = status.get("Msg")
    device_code = code if isinstance(code, int | str) and not isinstance(code, bool) else None
    device_msg = msg if isinstance(msg, str) else ""
    if not isinstance(flag, str):
        raise ProtocolError(host, f"{command}: STATUS flag is {flag!r}")
    text = f"{command}: device answered {flag} code={device_code} {device_msg!r}"
    if device_code == _DENIED_CODE:
        raise CommandDenied(host, text, device_code=device_code, device_msg=device_msg)
    raise DeviceStatusError(host, text, device_code=device_code, device_msg=device_msg)


class CgminerRpc:
    """Commands to one device's CGMiner-style RPC port.

    Remembers whether the firmware accepts ``a+b`` multi-commands, so a unit
    that rejects them pays for the failed attempt once, not on every poll.
    """

    __slots__ = ("_multi_ok", "transport")

    def __init__(self, transport: RpcTransport) -> None:
        self.transport = transport
        self._multi_ok: bool | None = None

    @property
    def host(self) -> str:
        return self.transport.host

    async def command(self, command: str, parameter: str | None = None) -> dict[str, Any]:
        """One command; the whole checked reply (STATUS plus its data section)."""
        raw = await self.transport.exchange(request_bytes(command, parameter))
        return check_envelope(self.host, command, load_json(self.host, raw))

    async def commands(self, *names: str) -> dict[str, dict[str, Any]]:
        """Several parameterless report commands, joined with ``+`` where the firmware allows.

        Returns each command's own checked reply, keyed by command name.
        """
        if len(names) == 1 or self._multi_ok is False:
            return await self._singly(names)
        replies = await self._joined(names)
        if replies is None:
            self._multi_ok = False
            return await self._singly(names)
        self._multi_ok = True
        return replies

    async def _singly(self, names: tuple[str, ...]) -> dict[str, dict[str, Any]]:
        replies = await gather_all([self.command(name) for name in names])
        return dict(zip(names, replies, strict=True))

    async def _joined(self, names: tuple[str, ...]) -> dict[str, dict[str, Any]] | None:
        """The joined replies, or None when the firmware refuses the join itself."""
        joined = "+".join(names)
        raw = await self.transport.exchange(request_bytes(joined))
        reply = load_json(self.host, raw)
        if not isinstance(reply, dict):
            raise ProtocolError(self.host, f"{joined}: reply is not an object")
        if "STATUS" in reply and not any(name in reply for name in names):
            try:
                check_envelope(self.host, joined, reply)
            except (DeviceStatusError, CommandDenied) as exc:
                if self._multi_ok:
                    raise  # joins worked before: this is the device failing, not the join
                _log.debug("%s: multi-command refused (%s); using single commands", self.host, exc)
                return None
            raise ProtocolError(self.host, f"{joined}: success status but no sections")
        out: dict[str, dict[str, Any]] = {}
        for name in names:
            member = reply.get(name)
            if not isinstance(member, list) or not member:
                raise ProtocolError(self.host, f"{joined}: no {name!r} member in the reply")
            out[name] = check_envelope(self.host, name, member[0])
        return out
