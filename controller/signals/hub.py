"""The hub: every source's updates enter here, are checked, and go to the command service.

The hub is where an input gets its time of arrival, its age and its verdict. A bad
update (malformed, absurd, past, duplicate, replayed, out of order) is a typed
:class:`BadSignal`: logged escaped, counted under ``hashpivot_signal_errors_total``
and dropped, while everything accepted before it stays. An accepted update goes
through :class:`controller.service.ControlService`, the same path the HTTP API takes,
so it is journaled (with source, origin and arrival) before it takes effect.

Staleness: each source has a limit. Past it the source is named in the control state's
``stale_signals``, which the policy reads as a stale input (its configured safe policy,
said in the plan's notes); one log line says so on the way in and one on the way out.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from controller.clock import Clock
from controller.journal.kinds import JournalKind
from controller.service.control import ControlService, InvalidRequest, NotFound
from controller.signals._events import GridEvents, Limits
from controller.signals.errors import BadSignal, ErrorKind, SignalError
from controller.signals.source import AgeFrom, Source
from controller.signals.updates import (
    Contact,
    HashpriceUpdate,
    PriceInterval,
    PriceMarket,
    PriceUpdate,
    Update,
)

__all__ = ["Limits", "SignalHub", "SourceStats"]

log = logging.getLogger(__name__)


@dataclass(slots=True, kw_only=True)
class SourceStats:
    """What the metrics and the status document show about one source."""

    stale_after_s: float | None
    age_from: AgeFrom
    last_value_at: float | None = None  # origin of the newest accepted value
    last_contact_at: float | None = None  # arrival of the last good read or update
    updates: int = 0
    errors: Counter[ErrorKind] = field(default_factory=Counter)
    stale: bool = False

    def age_s(self, now: float) -> float | None:
        at = self.last_value_at if self.age_from is AgeFrom.VALUE else self.last_contact_at
        return None if at is None else max(0.0, now - at)


class SignalHub:
    def __init__(
        self,
        service: ControlService,
        clock: Clock,
        *,
        limits: Limits | None = None,
        sources: Iterable[Source] = (),
    ) -> None:
        self.service = service
        self.clock = clock
        self.limits = limits or Limits()
        self.sources: dict[str, Source] = {}
        self.stats: dict[str, SourceStats] = {}
        self._started_at = clock.time()
        self._last_price_end: dict[str, float] = {}
        self._last_curve: dict[str, tuple[PriceInterval, ...]] = {}
        self._last_hashprice: dict[str, float] = {}
        self.events = GridEvents(service, self.limits)
        self._lock = asyncio.Lock()  # one update at a time: checks and effects stay in order
        for source in sources:
            self.add(source)

    # ---- sources --------------------------------------------------------------------

    def add(self, source: Source) -> None:
        if source.name in self.sources:
            raise ValueError(f"two signal sources are named {source.name}")
        self.sources[source.name] = source
        self.track(source.name, source.stale_after_s, source.age_from)

    def track(self, name: str, stale_after_s: float | None, age_from: AgeFrom) -> SourceStats:
        """Stats for a source that is not a :class:`Source` object (the webhook route)."""
        stats = self.stats.get(name)
        if stats is None:
            stats = self.stats[name] = SourceStats(stale_after_s=stale_after_s, age_from=age_from)
        return stats

    async def run(self, stop: asyncio.Event) -> None:
        """Start every source, watch ages until ``stop``, then stop them all."""
        self._started_at = self.clock.time()
        for source in self.sources.values():
            await source.start(self)
        try:
            while not stop.is_set():
                self.check_stale()
                await self.clock.sleep(1.0)
        finally:
            await self.close()

    async def close(self) -> None:
        for source in self.sources.values():
            await source.stop()

    # ---- the Sink interface ---------------------------------------------------------

    def error(self, source: str, error: SignalError) -> None:
        """Count a failure a source met (it logs its own transitions)."""
        self.track(source, None, AgeFrom.VALUE).errors[error.kind] += 1

    def reject(self, source: str, error: SignalError) -> None:
        """Count and log an update the hub refused; the text is escaped (repr)."""
        self.error(source, error)
        log.warning("signal %s: refused (%s): %r", source, error.kind.value, str(error)[:300])

    async def emit(self, update: Update) -> None:
        await self.submit(update)

    async def note(self, kind: JournalKind, source: str, data: dict[str, Any]) -> None:
        """Journal what a source decided that changes no state (an OpenADR opt-out)."""
        await self.service.note_signal(kind, source, data)

    async def submit(self, update: Update) -> SignalError | None:
        """:meth:`emit` that says what went wrong (the webhook answers with it)."""
        stats = self.track(update.source, None, AgeFrom.VALUE)
        async with self._lock:
            arrived = self.clock.time()
            try:
                self._check_origin(update, arrived)
                accepted = await self._apply(update, arrived)
            except BadSignal as exc:
                self.reject(update.source, exc)
                return exc
            except (InvalidRequest, NotFound) as exc:
                error = BadSignal(str(exc), ErrorKind.REJECTED)
                self.reject(update.source, error)
                return error
            stats.last_contact_at = arrived
            if accepted:
                stats.updates += 1
                if not isinstance(update, Contact):
                    stats.last_value_at = max(stats.last_value_at or 0.0, update.origin_at)
            self.check_stale()
            return None

    def status_json(self) -> dict[str, Any]:
        now = self.clock.time()
        return {
            name: {
                "age_s": stats.age_s(now),
                "stale_after_s": stats.stale_after_s,
                "stale": stats.stale,
                "updates": stats.updates,
                "errors": {k.value: n for k, n in sorted(stats.errors.items())},
            }
            for name, stats in sorted(self.stats.items())
        }

    # ---- ages -----------------------------------------------------------------------

    def check_stale(self) -> None:
        now = self.clock.time()
        stale_signals = self.service.state.stale_signals
        changed = False
        for name, stats in self.stats.items():
            limit = stats.stale_after_s
            age = stats.age_s(now)
            if age is None:
                age = now - self._started_at  # never heard from: as old as our start
            stale = limit is not None and age > limit
            if stale != stats.stale:
                stats.stale = stale
                changed = True
                if stale:
                    log.warning("signal %s stale: %.0f s old > %.0f s", name, age, limit)
                else:
                    log.info("signal %s fresh again", name)
            if stale:
                stale_signals[name] = f"{name} ({age:.0f} s old > {limit:.0f} s)"
            else:
                stale_signals.pop(name, None)
        if changed:
            self.service.replan("signal")

    # ---- checks and effects -----------------------------------------------------------

    def _check_origin(self, update: Update, now: float) -> None:
        if not math.isfinite(update.origin_at):
            raise BadSignal("origin time is not a number", ErrorKind.MALFORMED)
        if update.origin_at > now + self.limits.clock_skew_s:
            raise BadSignal(
                f"origin {update.origin_at:.0f} is ahead of now {now:.0f}", ErrorKind.FUTURE
            )

    async def _apply(self, update: Update, now: float) -> bool:
        if isinstance(update, PriceUpdate):
            if update.market is PriceMarket.REAL_TIME:
                return await self._real_time(update, now)
            return await self._forecast(update, now)
        if isinstance(update, HashpriceUpdate):
            return await self._hashprice(update, now)
        return await self.events.apply(update, now)

    def _check_prices(self, intervals: tuple[PriceInterval, ...]) -> None:
        if not intervals:
            raise BadSignal("no price intervals", ErrorKind.MALFORMED)
        lo, hi = self.limits.min_price_usd_per_mwh, self.limits.max_price_usd_per_mwh
        previous = -math.inf
        for interval in intervals:
            price = interval.usd_per_mwh
            if not (math.isfinite(interval.start) and math.isfinite(interval.end)):
                raise BadSignal("interval time is not a number", ErrorKind.MALFORMED)
            if interval.end <= interval.start:
                raise BadSignal("interval ends before it starts", ErrorKind.MALFORMED)
            if not (math.isfinite(price) and lo <= price <= hi):
                raise BadSignal(f"price {price!r} $/MWh outside [{lo:g}, {hi:g}]", ErrorKind.ABSURD)
            if interval.start <= previous:
                raise BadSignal("intervals out of order or repeated", ErrorKind.OUT_OF_ORDER)
            previous = interval.start

    async def _real_time(self, update: PriceUpdate, now: float) -> bool:
        self._check_prices(update.intervals)
        last = self._last_price_end.get(update.source, -math.inf)
        new = [i for i in update.intervals if i.end > last]
        if not new:
            newest = update.intervals[-1]
            kind = ErrorKind.DUPLICATE if newest.end == last else ErrorKind.OUT_OF_ORDER
            raise BadSignal(f"no interval newer than {last:.0f}", kind)
        if new[-1].end > now + self.limits.clock_skew_s:
            raise BadSignal("a settled price for an interval not yet over", ErrorKind.FUTURE)
        newest = new[-1]
        await self.service.set_economics(
            power_price=newest.usd_per_mwh,
            hashprice=None,
            as_of=newest.end,
            source=update.source,
            actor=f"signal:{update.source}",
            detail={
                "arrived_at": now,
                "market": update.market.value,
                "intervals": [[i.start, i.end, i.usd_per_mwh] for i in new],
            },
        )
        self._last_price_end[update.source] = newest.end
        return True

    async def _forecast(self, update: PriceUpdate, now: float) -> bool:
        self._check_prices(update.intervals)
        ahead = tuple(i for i in update.intervals if i.end > now)
        if not ahead:
            raise BadSignal("forecast lies wholly in the past", ErrorKind.PAST_DEADLINE)
        if self._last_curve.get(update.source) == ahead:
            raise BadSignal("the same forecast again", ErrorKind.DUPLICATE)
        await self.service.set_forecast(
            [(i.start, i.end, i.usd_per_mwh) for i in ahead],
            as_of=update.origin_at,
            source=update.source,
            actor=f"signal:{update.source}",
            detail={"arrived_at": now},
        )
        self._last_curve[update.source] = ahead
        return True

    async def _hashprice(self, update: HashpriceUpdate, now: float) -> bool:
        value, hi = update.usd_per_ph_day, self.limits.max_hashprice_usd_per_ph_day
        if not (math.isfinite(value) and 0 <= value <= hi):
            raise BadSignal(f"hashprice {value!r} $/PH/day outside [0, {hi:g}]", ErrorKind.ABSURD)
        last = self._last_hashprice.get(update.source, -math.inf)
        if update.origin_at <= last:
            kind = ErrorKind.DUPLICATE if update.origin_at == last else ErrorKind.OUT_OF_ORDER
            raise BadSignal(f"hashprice as of {update.origin_at:.0f} is not newer", kind)
        await self.service.set_economics(
            power_price=None,
            hashprice=value,
            as_of=update.origin_at,
            source=update.source,
            actor=f"signal:{update.source}",
            detail={"arrived_at": now, "inputs": dict(update.detail)},
        )
        self._last_hashprice[update.source] = update.origin_at
        return True

    def event_id(self, source: str, provider_event_id: str) -> str:
        return self.events.event_id(source, provider_event_id)
