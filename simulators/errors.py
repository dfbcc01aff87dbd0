"""The simulators' exception tree: one root, typed subclasses that carry host and code."""

from __future__ import annotations

__all__ = [
    "PortPermissionError",
    "PortUnavailableError",
    "SimulatorError",
    "SiteError",
    "UnknownDeviceError",
    "UnknownFaultError",
]


class SimulatorError(Exception):
    """Root of every error the simulators raise on purpose."""

    def __init__(self, message: str, *, host: str | None = None, code: str = "simulator") -> None:
        super().__init__(message)
        self.host = host
        self.code = code


class SiteError(SimulatorError):
    """A site file (or dict) that does not describe a valid simulated site."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message, code="site")
        self.field = field


class UnknownDeviceError(SimulatorError, KeyError):
    """No simulated device has this address."""

    def __init__(self, host: str) -> None:
        super().__init__(f"no simulated device at {host}", host=host, code="unknown-device")

    def __str__(self) -> str:  # KeyError would otherwise print the repr of the message
        return str(self.args[0])


class UnknownFaultError(SimulatorError, ValueError):
    """A fault name (or its parameter) that the simulators do not know."""

    def __init__(self, message: str) -> None:
        super().__init__(message, code="unknown-fault")


class PortUnavailableError(SimulatorError):
    """A listening socket could not be bound."""

    def __init__(self, message: str, *, host: str, port: int, code: str = "bind") -> None:
        super().__init__(message, host=host, code=code)
        self.port = port


class PortPermissionError(PortUnavailableError):
    """Binding a port below 1024 needs root or a lowered unprivileged-port sysctl."""

    def __init__(self, *, host: str, port: int) -> None:
        super().__init__(
            f"cannot listen on {host}:{port}: ports below 1024 need root, or "
            f"`sysctl net.ipv4.ip_unprivileged_port_start={port}`. "
            "Alternatively run with --unprivileged (web API on 10080 instead of 80; "
            "hashpivot's drivers accept a port per device, pyasic does not).",
            host=host,
            port=port,
            code="privileged-port",
        )
