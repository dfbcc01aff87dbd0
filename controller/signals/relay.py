"""The relay contact: a Modbus coil or discrete input read at least twice a second.

Every read is an update (the hub only acts on a change): a trip creates a relay-trip
event at once, journaled; the policy sheds everything and latches, and nothing comes
back until an operator clears it (``POST /api/v1/relay/clear``). A contact that resets
by itself releases nothing. The source is aged by contact: a contact that cannot be read
for ``stale_after_s`` is a stale input (the safe policy, said in the plan).
"""

from __future__ import annotations

from collections.abc import Sequence

from controller.clock import Clock
from controller.signals.errors import UpstreamError
from controller.signals.source import AgeFrom, PollingSource
from controller.signals.updates import RelayUpdate, Update
from drivers import DriverError
from drivers.meter import RelayContact

__all__ = ["RelaySource"]


class RelaySource(PollingSource):
    age_from = AgeFrom.CONTACT

    def __init__(
        self,
        name: str,
        clock: Clock,
        contact: RelayContact,
        *,
        interval_s: float,
        stale_after_s: float | None,
    ) -> None:
        super().__init__(
            name,
            clock,
            interval_s=interval_s,
            timeout_s=contact.timeout_s,
            stale_after_s=stale_after_s,
            max_backoff_s=interval_s,
        )
        self.contact = contact

    def delay_s(self) -> float:
        return self.interval_s  # a relay is never polled less often, failing or not

    async def poll(self) -> Sequence[Update]:
        try:
            tripped = await self.contact.read()
        except DriverError as exc:
            raise UpstreamError(f"relay contact {self.contact.host}: {exc}") from None
        return [RelayUpdate(source=self.name, origin_at=self.clock.time(), tripped=tripped)]

    async def stop(self) -> None:
        await super().stop()
        await self.contact.close()
