"""Which TCP port each simulated service listens on."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["UNPRIVILEGED_WEB_PORT", "PortMap"]

UNPRIVILEGED_WEB_PORT = 10080


@dataclass(frozen=True, slots=True)
class PortMap:
    """Standard ports by default: pyasic hard-codes them, so it needs these.

    hashpivot's own drivers take a port per device, so tests and unprivileged runs
    may move any of them.
    """

    rpc: int = 4028  # CGMiner-style RPC (Antminer, and later Whatsminer v2 / Auradine)
    web: int = 80  # Antminer CGI web API

    @classmethod
    def unprivileged(cls) -> PortMap:
        return cls(web=UNPRIVILEGED_WEB_PORT)

    def needs_privilege(self) -> bool:
        return any(port < 1024 for port in (self.rpc, self.web))
