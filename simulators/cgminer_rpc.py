"""CGMiner-style RPC framing on TCP (4028): one JSON request, one reply, close.

The client writes raw JSON with no newline and never half-closes, so the request is
decoded incrementally as bytes arrive. Plain-text requests (``summary|0``) are taken
from the first read, as cgminer does. Make-specific replies come from a callable;
this module owns framing, the reply envelope and the network faults.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from simulators.faults import FaultKind, FaultSet, corrupt, truncate

__all__ = [
    "CgminerRpcProtocol",
    "Encoder",
    "RpcRequest",
    "StallProtocol",
    "cgminer_encode",
    "error_reply",
    "status_entry",
]

_log = logging.getLogger(__name__)

_MAX_REQUEST = 64 * 1024
_READ_TIMEOUT_S = 5.0  # real seconds a client may take to finish its request


@dataclass(frozen=True, slots=True)
class RpcRequest:
    command: str | None  # None when the JSON object lacks "command"
    parameter: str | None
    raw: dict[str, Any] | None  # the decoded JSON object, None for plain text
    invalid_json: bool = False


def status_entry(
    status: str, code: int, msg: str, *, when: float, description: str
) -> dict[str, Any]:
    return {
        "STATUS": status,
        "When": int(when),
        "Code": code,
        "Msg": msg,
        "Description": description,
    }


def ok_reply(
    code: int, msg: str, *, when: float, description: str, **sections: Any
) -> dict[str, Any]:
    """A successful reply: its STATUS, then the command's sections (``SUMMARY=[...]``)."""
    status = [status_entry("S", code, msg, when=when, description=description)]
    return {"STATUS": status, **sections, "id": 1}


def error_reply(code: int, msg: str, *, when: float, description: str) -> dict[str, Any]:
    return {"STATUS": [status_entry("E", code, msg, when=when, description=description)], "id": 1}


Responder = Callable[[RpcRequest], dict[str, Any]]
# Turns a reply into the bytes on the wire; None sends nothing and closes (a command
# that real firmware never answers).
Encoder = Callable[[dict[str, Any]], bytes | None]


def cgminer_encode(reply: dict[str, Any]) -> bytes:
    """Compact JSON plus the NUL byte cgminer-derived firmware ends every reply with."""
    return json.dumps(reply, separators=(",", ":")).encode() + b"\x00"


class StallProtocol(asyncio.Protocol):
    """Accepts and never answers; the client has to give up."""

    def data_received(self, data: bytes) -> None:
        pass


class CgminerRpcProtocol(asyncio.Protocol):
    def __init__(
        self, respond: Responder, faults: FaultSet, encode: Encoder = cgminer_encode
    ) -> None:
        self._respond = respond
        self._faults = faults
        self._encode = encode
        self._buffer = b""
        self._transport: asyncio.Transport | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._done = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport
        self._timer = asyncio.get_running_loop().call_later(_READ_TIMEOUT_S, self._on_timeout)

    def connection_lost(self, exc: Exception | None) -> None:
        self._done = True
        if self._timer is not None:
            self._timer.cancel()

    def data_received(self, data: bytes) -> None:
        if self._done:
            return
        self._buffer += data
        request = self._try_parse(final=len(self._buffer) > _MAX_REQUEST)
        if request is not None:
            self._finish(request)

    def eof_received(self) -> bool | None:
        if not self._done:
            self._finish(self._try_parse(final=True) or RpcRequest(None, None, None, True))
        return True  # keep the write side open: the reply may still be on its way

    def _on_timeout(self) -> None:
        if self._done or self._transport is None:
            return
        if self._buffer.strip():
            self._finish(RpcRequest(None, None, None, invalid_json=True))
        else:
            self._done = True
            self._transport.close()

    def _try_parse(self, *, final: bool) -> RpcRequest | None:
        text = self._buffer.decode("utf-8", errors="replace").strip().strip("\x00").strip()
        if not text:
            return None
        if not text.startswith("{"):
            command, _, parameter = text.partition("|")
            return RpcRequest(command.strip(), parameter or None, None)
        try:
            obj, _end = json.JSONDecoder().raw_decode(text)
        except json.JSONDecodeError as exc:
            incomplete = exc.pos >= len(text) or exc.msg.startswith("Unterminated string")
            if incomplete and not final:
                return None
            return RpcRequest(None, None, None, invalid_json=True)
        if not isinstance(obj, dict):
            return RpcRequest(None, None, None, invalid_json=True)
        raw_command = obj.get("command")
        raw_parameter = obj.get("parameter")
        return RpcRequest(
            raw_command if isinstance(raw_command, str) else None,
            None if raw_parameter is None else str(raw_parameter),
            obj,
        )

    def _finish(self, request: RpcRequest) -> None:
        self._done = True
        if self._timer is not None:
            self._timer.cancel()
        try:
            reply = self._respond(request)
        except Exception:  # noqa: BLE001 - a simulator bug must not hang the client
            _log.exception("RPC responder failed on %r", request)
            reply = {"STATUS": [{"STATUS": "F", "Code": 0, "Msg": "simulator error"}], "id": 1}
        payload = self._encode(reply)
        if payload is None:
            if self._transport is not None:
                self._transport.close()
            return
        delay = self._faults.slow_s
        if delay > 0:
            asyncio.get_running_loop().call_later(delay, self._send, payload)
        else:
            self._send(payload)

    def _send(self, payload: bytes) -> None:
        transport = self._transport
        if transport is None or transport.is_closing():
            return
        if self._faults.has(FaultKind.MALFORMED):
            payload = corrupt(payload)
        if self._faults.has(FaultKind.TRUNCATED):
            payload = truncate(payload)
        transport.write(payload)
        transport.close()
