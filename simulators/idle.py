"""A kept-alive connection that the simulated firmware closes after a quiet spell."""

from __future__ import annotations

import asyncio

__all__ = ["IdleClosingProtocol"]


class IdleClosingProtocol(asyncio.Protocol):
    """Closes the connection ``idle_timeout_s`` after it opened or was last re-armed
    (a subclass re-arms it with :meth:`_arm_idle` on each request), as the firmware does."""

    idle_timeout_s = 60.0

    def __init__(self) -> None:
        self._transport: asyncio.Transport | None = None
        self._idle: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport
        self._arm_idle()

    def connection_lost(self, exc: Exception | None) -> None:
        self._transport = None
        if self._idle is not None:
            self._idle.cancel()
        self._closed()

    def _closed(self) -> None:
        """What the subclass lets go of when the connection ends."""

    def _arm_idle(self) -> None:
        if self._idle is not None:
            self._idle.cancel()
        if self._transport is not None:
            self._idle = asyncio.get_running_loop().call_later(
                self.idle_timeout_s, self._transport.close
            )
