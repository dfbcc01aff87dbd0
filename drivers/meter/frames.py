"""Checks that the bytes coming back can be the Modbus TCP reply to the request sent.

pymodbus skips bytes it cannot frame and waits for more, so a meter that answers
with junk (a web server on port 502, a serial gateway out of sync) would only show
up as a timeout. Checking each header field as soon as it arrives turns junk into a
:class:`MeterError` at once, and names what is wrong.

MBAP reply layout: transaction id (2), protocol id (2, always 0), length (2, counts
the unit id and the PDU), unit id (1), then the PDU: function code (1) and either a
byte count (1) with the registers (or bits, eight to a byte), or, with the function's
high bit set, one exception code.
"""

from __future__ import annotations

from drivers.meter.errors import MeterError

__all__ = ["check_reply"]

_HEADER = 7
_MAX_LENGTH = 254  # unit id + the largest PDU (253 bytes)
_REQUEST_LENGTH = 12  # header + function + address (2) + count (2)
_BIT_READS = (1, 2)  # read coils, read discrete inputs


def check_reply(request: bytes, reply: bytes, *, host: str) -> None:
    """Raise MeterError unless ``reply`` (complete or a prefix) fits ``request``.

    ``request`` is the read frame that was sent; a prefix that is still consistent
    passes, so this may be called on every chunk as it arrives.
    """
    if len(request) != _REQUEST_LENGTH:
        raise MeterError(host, f"reply to a request of {len(request)} bytes, not a register read")
    function = request[7]
    words = int.from_bytes(request[10:12], "big")
    if len(reply) >= 2 and reply[0:2] != request[0:2]:
        raise MeterError(
            host, f"reply transaction id {reply[0:2].hex()} != request {request[0:2].hex()}"
        )
    if len(reply) >= 4 and reply[2:4] != b"\x00\x00":
        raise MeterError(host, f"protocol id {reply[2:4].hex()} is not Modbus (0000)")
    if len(reply) >= 6:
        length = int.from_bytes(reply[4:6], "big")
        if not 3 <= length <= _MAX_LENGTH:
            raise MeterError(host, f"MBAP length {length} is outside 3..{_MAX_LENGTH}")
    if len(reply) >= _HEADER and reply[6] != request[6]:
        raise MeterError(host, f"reply from unit {reply[6]}, asked unit {request[6]}")
    if len(reply) < _HEADER + 1:
        return
    answered = reply[7]
    if answered == function | 0x80:
        if length != 3:
            raise MeterError(host, f"exception reply with MBAP length {length}, expected 3")
        return
    if answered != function:
        raise MeterError(host, f"reply to function {answered}, asked function {function}")
    if len(reply) >= _HEADER + 2:
        byte_count = reply[8]
        # Coils and discrete inputs (functions 1, 2) come eight to a byte.
        expected = (words + 7) // 8 if function in _BIT_READS else 2 * words
        if byte_count != expected:
            raise MeterError(host, f"reply carries {byte_count} bytes, asked {words} items")
        if length != 3 + byte_count:
            raise MeterError(host, f"MBAP length {length} does not match {byte_count} data bytes")
