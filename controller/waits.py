"""Waiting on whichever of several :class:`asyncio.Event` comes first (the poller and the
control loop each wait on "stop" or "work to do")."""

from __future__ import annotations

import asyncio

__all__ = ["first_of"]


async def first_of(*events: asyncio.Event) -> None:
    """Return when any of ``events`` is set; the waits on the others are cancelled."""
    waiters = [asyncio.ensure_future(event.wait()) for event in events]
    try:
        await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()
