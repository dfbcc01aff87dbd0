"""Which TCP port each simulated service listens on."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["UNPRIVILEGED_MODBUS_PORT", "UNPRIVILEGED_WEB_PORT", "PortMap"]

UNPRIVILEGED_WEB_PORT = 10080
UNPRIVILEGED_MODBUS_PORT = 5020


@dataclass(frozen=True, slots=True)
class PortMap:
    """Standard ports by default: pyasic hard-codes them, so it needs these.

    hashpivot's own drivers take a port per device, so tests and unprivileged runs
    may move any of them.
    """

    rpc: int = 4028  # CGMiner-style RPC (Antminer, Whatsminer API v2, Auradine GCMiner)
    web: int = 80  # Antminer CGI web API; the Auradine web UI page
    whatsminer_v3: int = 4433  # Whatsminer API v3: length-prefixed JSON frames
    auradine_rest: int = 8080  # Auradine FluxOS REST API
    modbus: int = 502  # the site power meter (Modbus TCP)

    @classmethod
    def unprivileged(cls) -> PortMap:
        return cls(web=UNPRIVILEGED_WEB_PORT, modbus=UNPRIVILEGED_MODBUS_PORT)

    def needs_privilege(self) -> bool:
        ports = (self.rpc, self.web, self.whatsminer_v3, self.auradine_rest, self.modbus)
        return any(port < 1024 for port in ports)
