"""Which TCP port each simulated service listens on."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["UNPRIVILEGED_MODBUS_PORT", "UNPRIVILEGED_WEB_PORT", "PortMap"]

UNPRIVILEGED_WEB_PORT = 10080
UNPRIVILEGED_MODBUS_PORT = 5020


@dataclass(frozen=True, slots=True, kw_only=True)
class PortMap:
    """Standard ports by default: pyasic hard-codes them, so it needs these.

    Ports are named by the kind of service, not by make: each make's device says
    which of them it serves. hashpivot's own drivers take a port per device, so tests
    and unprivileged runs may move any of them.
    """

    rpc: int = 4028  # CGMiner-style RPC (line-delimited JSON)
    web: int = 80  # the web API or web UI page
    frames: int = 4433  # length-prefixed JSON frames (newer miner APIs)
    rest: int = 8080  # a REST API beside the web page
    modbus: int = 502  # the site power meter (Modbus TCP)

    @classmethod
    def unprivileged(cls) -> PortMap:
        return cls(web=UNPRIVILEGED_WEB_PORT, modbus=UNPRIVILEGED_MODBUS_PORT)

    def needs_privilege(self) -> bool:
        ports = (self.rpc, self.web, self.frames, self.rest, self.modbus)
        return any(port < 1024 for port in ports)
