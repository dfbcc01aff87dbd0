"""One exception tree for every driver.

Every failure a device can cause ends in a subclass of :class:`DriverError` that
carries the host and a short machine-readable ``code``; the controller counts
errors by that code and turns them into device health. No driver returns a
sentinel for a failure.
"""

from __future__ import annotations

__all__ = [
    "AuthError",
    "CommandDenied",
    "ConfigReadError",
    "ConnectionFailed",
    "DeviceBusy",
    "DeviceStatusError",
    "DeviceTimeout",
    "DriverError",
    "ProtocolError",
    "UnsupportedError",
    "WriteNotApplied",
    "WriteRejected",
    "WritesDisabled",
]


class DriverError(Exception):
    """Root of every error raised by :mod:`drivers`."""

    code = "driver_error"

    def __init__(self, host: str, message: str) -> None:
        super().__init__(f"{host}: {message}")
        self.host = host
        self.message = message


class ConnectionFailed(DriverError):
    """The device refused or reset the connection, or could not be reached."""

    code = "connection"


class DeviceTimeout(DriverError, TimeoutError):
    """The device accepted but did not answer within the driver's deadline.

    Also a :class:`TimeoutError` (which :class:`asyncio.TimeoutError` is since Python
    3.11), so generic timeout handling still works; the builtin, because importing asyncio
    here would load it into the pure policy engine through the domain types.
    """

    code = "timeout"


class AuthError(DriverError):
    """The device rejected the credentials, or the token expired and re-login failed."""

    code = "auth"


class ProtocolError(DriverError):
    """The reply could not be framed or decoded, or had an unexpected shape."""

    code = "protocol"


class UnsupportedError(DriverError):
    """The device, model or firmware has no such command or capability."""

    code = "unsupported"


class DeviceBusy(DriverError):
    """The device answered that it is restarting or busy; try again later."""

    code = "busy"


class ConfigReadError(DriverError):
    """A read-modify-write could not read the current configuration, so nothing was written."""

    code = "config_read"


class WriteRejected(DriverError):
    """The device answered the write with an error status (for example: writes disabled)."""

    code = "write_rejected"


class WritesDisabled(WriteRejected):
    """The device refuses every write until an operator enables them on the unit itself.

    For example a Whatsminer whose API switch is off or whose admin password is
    still the factory default. The message says what to change; retrying will not help.
    """

    code = "writes_disabled"


class WriteNotApplied(DriverError):
    """The device acknowledged a write but reading it back shows it did not take effect."""

    code = "not_applied"


class _DeviceWords(DriverError):
    """An error that keeps the device's own code and message.

    ``device_code`` and ``device_msg`` are the device's words, kept for logs and
    for callers that must tell one firmware refusal from another.
    """

    def __init__(
        self,
        host: str,
        message: str,
        *,
        device_code: int | str | None = None,
        device_msg: str = "",
    ) -> None:
        super().__init__(host, message)
        self.device_code = device_code
        self.device_msg = device_msg


class DeviceStatusError(_DeviceWords):
    """The device answered with an error status of its own (RPC E/W/F, a CGI failure)."""

    code = "device_status"


class CommandDenied(_DeviceWords, UnsupportedError):
    """The device refused a command it knows but does not allow here (cgminer code 45).

    Stock Antminer firmware only opens five read commands on its RPC port.
    """

    code = "denied"
