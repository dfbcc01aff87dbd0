"""Errors of the meter driver: meter-specific kinds of :class:`drivers.errors.ProtocolError`.

Connection and timeout failures use the shared :class:`ConnectionFailed` and
:class:`DeviceTimeout`; what only a meter can get wrong (a Modbus exception
response, a value no real site could draw, a reply that is not Modbus at all) is a
:class:`MeterError`. A register map that cannot be valid is a :class:`RegisterMapError`,
raised while the configuration is read, before any meter is contacted.
"""

from __future__ import annotations

from drivers.errors import ProtocolError

__all__ = ["ImplausibleValue", "MeterError", "ModbusExceptionResponse", "RegisterMapError"]

# Modbus application protocol v1.1b3, section 7.
_EXCEPTION_NAMES = {
    1: "illegal function",
    2: "illegal data address (check the register map)",
    3: "illegal data value",
    4: "server device failure",
    5: "acknowledge",
    6: "server device busy",
    8: "memory parity error",
    10: "gateway path unavailable",
    11: "gateway target device failed to respond (check unit_id)",
}


class MeterError(ProtocolError):
    """The meter answered, but not with a reading we can trust."""

    code = "meter"


class ModbusExceptionResponse(MeterError):
    """The meter answered a read with a Modbus exception code."""

    code = "modbus_exception"

    def __init__(self, host: str, *, function_code: int, exception_code: int) -> None:
        name = _EXCEPTION_NAMES.get(exception_code, "unknown exception")
        super().__init__(
            host, f"function {function_code} answered exception {exception_code}: {name}"
        )
        self.function_code = function_code
        self.exception_code = exception_code


class ImplausibleValue(MeterError):
    """A register decoded to NaN, infinity, or a value no site meter can show."""

    code = "implausible"

    def __init__(self, host: str, quantity: str, message: str) -> None:
        super().__init__(host, f"{quantity}: {message}")
        self.quantity = quantity


class RegisterMapError(ValueError):
    """A register map that cannot describe a meter; ``field`` names the offending entry.

    A ValueError, so a pydantic validator that builds a map reports it as a field error.
    """

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message

    def within(self, prefix: str) -> RegisterMapError:
        """The same error, with its field named from an enclosing entry."""
        return RegisterMapError(f"{prefix}.{self.field}" if self.field else prefix, self.message)
