"""Length-prefixed JSON frames on TCP (Whatsminer API v3, port 4433).

Every message, both ways, is a 4-byte little-endian length followed by that many
bytes of UTF-8 JSON. A zero length is a heartbeat and is answered with one. Unlike
the CGMiner framing the connection stays open: a client may send many requests on
it, and the reply order follows the request order. The server closes it after an
idle period, as the firmware does.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from typing import Any

from simulators.faults import FaultKind, FaultSet, corrupt, truncate
from simulators.idle import IdleClosingProtocol

__all__ = ["HEARTBEAT", "FramedJsonProtocol", "frame"]

_log = logging.getLogger(__name__)

HEARTBEAT = b"\x00\x00\x00\x00"
_MAX_FRAME = 256 * 1024

# Gets the decoded request (None when the frame is not a JSON object).
FrameResponder = Callable[[dict[str, Any] | None], dict[str, Any]]


def frame(payload: bytes) -> bytes:
    return len(payload).to_bytes(4, "little") + payload


class FramedJsonProtocol(IdleClosingProtocol):
    idle_timeout_s = 60.0

    def __init__(
        self,
        respond: FrameResponder,
        faults: FaultSet,
        on_close: Callable[[], None] | None = None,
        gone: Callable[[], bool] | None = None,
    ) -> None:
        super().__init__()
        self._respond = respond
        self._faults = faults
        self._on_close = on_close
        self._gone = gone  # True once the device is offline (rebooting)
        self._buffer = b""

    def _closed(self) -> None:
        if self._on_close is not None:
            self._on_close()
            self._on_close = None

    def data_received(self, data: bytes) -> None:
        self._buffer += data
        self._arm_idle()
        while self._transport is not None and len(self._buffer) >= 4:
            length = int.from_bytes(self._buffer[:4], "little")
            if length > _MAX_FRAME:
                _log.info("frame of %d bytes refused; closing", length)
                self._transport.close()
                return
            if len(self._buffer) < 4 + length:
                return
            body, self._buffer = self._buffer[4 : 4 + length], self._buffer[4 + length :]
            if self._faults.has(FaultKind.REFUSE) or (self._gone is not None and self._gone()):
                self._transport.abort()  # the device just went away
                return
            if self._faults.has(FaultKind.STALL):
                continue  # read and never answered
            if length == 0:
                self._send(HEARTBEAT, raw=True)
                continue
            self._answer(body)

    def _answer(self, body: bytes) -> None:
        try:
            decoded = json.loads(body)
        except (json.JSONDecodeError, UnicodeDecodeError):
            decoded = None
        request = decoded if isinstance(decoded, dict) else None
        try:
            reply = self._respond(request)
        except Exception:  # noqa: BLE001 - a simulator bug must not hang the client
            _log.exception("frame responder failed on %r", request)
            reply = {"code": -1, "msg": "simulator error"}
        payload = json.dumps(reply, separators=(",", ":")).encode()
        self._send(payload, raw=False)

    def _send(self, payload: bytes, *, raw: bool) -> None:
        delay = self._faults.slow_s
        if delay > 0:
            # call_later keeps FIFO order for equal delays, so replies stay in order.
            asyncio.get_running_loop().call_later(delay, self._write, payload, raw)
        else:
            self._write(payload, raw)

    def _write(self, payload: bytes, raw: bool) -> None:
        transport = self._transport
        if transport is None or transport.is_closing():
            return
        if raw:
            transport.write(payload)
            return
        if self._faults.has(FaultKind.MALFORMED):
            payload = corrupt(payload)
        data = frame(payload)
        if self._faults.has(FaultKind.TRUNCATED):
            transport.write(truncate(data))
            transport.close()
            return
        transport.write(data)
