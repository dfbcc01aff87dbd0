"""An OpenADR 2.0b VEN through openleadr: events in, opt-in/out back, metered load reported.

- Registers with the VTN (``vtn_url`` includes its path prefix, e.g.
  ``http://vtn:8080/OpenADR2/Simple/2.0b``) and polls at the rate the VTN asks.
- ``SIMPLE`` levels map to the configured kW levels (``simple_levels_kw``);
  ``LOAD_CONTROL`` ``x-loadControlCapacity`` is a fraction of ``capacity_kw``, and
  ``x-loadControlLevelOffset`` steps map through ``offset_levels_kw``. The most demanding
  interval sets the level; the event runs over its active period, the level due at its
  start. A new modification number changes the event; status ``cancelled`` cancels it.
- The answer is ``optIn`` when the hub accepted the event and the level is not below the
  site's floor (``floor_kw``: what cannot be shed), else ``optOut``; the reason is logged
  and journaled (openleadr's VTN has no EiOpt service to carry it, issues #70/#128).
- Metered site load goes back as a ``TELEMETRY_USAGE`` report (real power, kW).

Contact age: every answered poll is contact; a VTN that cannot be reached or registered
with ages the source into staleness, and registration is retried with backoff.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from openleadr import OpenADRClient

from controller import policy
from controller.clock import Clock
from controller.journal.kinds import JournalKind
from controller.signals.errors import BadSignal, ErrorKind, SignalError, UpstreamError
from controller.signals.source import AgeFrom, Sink, cancelled
from controller.signals.updates import Contact, EventAction, EventUpdate

__all__ = ["OpenAdrVen", "VenSettings", "event_update"]

log = logging.getLogger(__name__)

OPT_IN, OPT_OUT = "optIn", "optOut"
_OPEN_ENDED_S = 24 * 3600.0  # duration 0 means open-ended: held a day, until cancelled


def _seconds(value: Any) -> float:
    if isinstance(value, datetime):
        return value.timestamp()
    raise BadSignal("dtstart is not a time", ErrorKind.MALFORMED)


def _duration(value: Any) -> float:
    if isinstance(value, timedelta):
        return value.total_seconds()
    raise BadSignal("duration is not a duration", ErrorKind.MALFORMED)


def _level_kw(
    signal: Mapping[str, Any],
    simple: Mapping[int, float],
    offsets: Mapping[int, float],
    capacity_kw: float | None,
) -> float | None:
    """The most demanding level of one signal, in kW; None for "no limit" (level 0)."""
    name = str(signal.get("signal_name", "")).upper()
    kind = str(signal.get("signal_type", ""))
    intervals = signal.get("intervals") or ()
    if not isinstance(intervals, list | tuple):
        raise BadSignal(f"{name} intervals are not a list", ErrorKind.MALFORMED)
    payloads = [i.get("signal_payload") for i in intervals if isinstance(i, Mapping)]
    try:
        values = [
            float(p) for p in payloads if isinstance(p, int | float) and not isinstance(p, bool)
        ]
    except OverflowError:
        raise BadSignal(f"{name} payload too large", ErrorKind.ABSURD) from None
    if not values or not all(math.isfinite(v) for v in values):
        raise BadSignal(f"{name} signal without numeric payloads", ErrorKind.MALFORMED)
    if name == "SIMPLE" or (name == "LOAD_CONTROL" and kind == "x-loadControlLevelOffset"):
        table = simple if name == "SIMPLE" else offsets
        step = max(values)
        if step < 0 or step != int(step):
            raise BadSignal(f"{name} level {step!r} is not a level", ErrorKind.ABSURD)
        if step == 0:
            return None
        if int(step) not in table:
            raise BadSignal(f"{name} level {int(step)} has no configured kW", ErrorKind.UNITS)
        return table[int(step)]
    if name == "LOAD_CONTROL" and kind == "x-loadControlCapacity":
        if capacity_kw is None:
            raise BadSignal("capacity signal but no capacity_kw configured", ErrorKind.UNITS)
        fraction = min(values)
        if not 0 <= fraction <= 1:
            raise BadSignal(f"capacity fraction {fraction!r} outside 0..1", ErrorKind.ABSURD)
        return fraction * capacity_kw
    raise BadSignal(f"signal {name}/{kind} is not supported", ErrorKind.UNITS)


def event_update(
    source: str,
    event: Mapping[str, Any],
    now: float,
    *,
    simple: Mapping[int, float],
    offsets: Mapping[int, float],
    capacity_kw: float | None,
) -> EventUpdate:
    """One openleadr event dict as the hub's update."""
    try:
        descriptor = event["event_descriptor"]
        event_id = str(descriptor["event_id"])
        sequence = int(descriptor.get("modification_number") or 0)
        status = str(descriptor.get("event_status", ""))
        period = dict(event["active_period"])
        signals = event["event_signals"]
    except (KeyError, TypeError, ValueError, AttributeError, OverflowError):
        what = "event without its descriptor, period or signals"
        raise BadSignal(what, ErrorKind.MALFORMED) from None
    version = functools.partial(
        EventUpdate, source=source, origin_at=now, provider_event_id=event_id, sequence=sequence
    )
    if status == "cancelled":
        return version(action=EventAction.CANCEL)
    if isinstance(signals, Mapping):
        signals = signals.get("event_signals", [])
    if not isinstance(signals, list) or not all(isinstance(s, Mapping) for s in signals):
        raise BadSignal("event signals are not a list of signals", ErrorKind.MALFORMED)
    levels = [_level_kw(s, simple, offsets, capacity_kw) for s in signals]
    if not levels:
        raise BadSignal("event without signals", ErrorKind.MALFORMED)
    limits = [lv for lv in levels if lv is not None]
    start = _seconds(period.get("dtstart"))
    duration = _duration(period.get("duration", timedelta(0)))
    end = start + (duration if duration > 0 else _OPEN_ENDED_S)
    level = min(limits) if limits else None
    kind = policy.EventKind.INSTRUCTED if level is not None else policy.EventKind.PRICE
    return version(
        action=EventAction.CREATE,
        kind=kind,
        level_mw=None if level is None else level / 1e3,
        start=start,
        end=end,
        deadline=start if start > now + 1 else None,
    )


class _Client(OpenADRClient):  # type: ignore[misc]
    """openleadr's client, telling us when a poll is answered (our contact age)."""

    def __init__(self, *args: Any, on_poll: Callable[[bool], None], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._on_poll = on_poll

    async def poll(self) -> tuple[Any, Any]:
        response_type, payload = await super().poll()
        self._on_poll(response_type is not None)
        return response_type, payload


@dataclass(frozen=True, slots=True, kw_only=True)
class VenSettings:
    """The VEN's configuration (``signals.openadr`` in the config file, field for field)."""

    vtn_url: str
    ven_name: str
    simple_levels_kw: Mapping[int, float]  # SIMPLE level -> the most the site may draw
    offset_levels_kw: Mapping[int, float]
    capacity_kw: float | None
    floor_kw: float  # below this the VEN opts out
    resource_id: str
    report_interval_s: float
    stale_after_s: float | None
    retry_s: float = 30.0


class OpenAdrVen:
    age_from = AgeFrom.CONTACT

    def __init__(
        self,
        name: str,
        clock: Clock,
        settings: VenSettings,
        *,
        site_kw: Callable[[], float | None] = lambda: None,
    ) -> None:
        self.name = name
        self.clock = clock
        self.settings = settings
        self.stale_after_s = settings.stale_after_s
        self.site_kw = site_kw  # the app sets it to the metered site power
        self.opts: list[tuple[str, int, str, str]] = []  # (event id, version, opt, reason)
        self.client: _Client | None = None
        self._sink: Sink | None = None
        self._task: asyncio.Task[None] | None = None
        self._reachable: bool | None = None
        self._pending: asyncio.Future[None] | None = None

    async def start(self, sink: Sink) -> None:
        self._sink = sink
        self._task = asyncio.create_task(self._run(), name=f"signal-{self.name}")

    async def stop(self) -> None:
        await cancelled(self._task)
        self._task = None
        await self._close_client()

    async def _close_client(self) -> None:
        client, self.client = self.client, None
        if client is not None:
            with contextlib.suppress(Exception):
                await client.stop()

    def _new_client(self) -> _Client:
        client = _Client(
            self.settings.ven_name,
            self.settings.vtn_url,
            allow_jitter=False,
            on_poll=self._polled,
            show_fingerprint=False,
        )
        client.add_handler("on_event", self._on_event)
        client.add_handler("on_update_event", self._on_event)
        client.add_report(
            callback=self._report_kw,
            resource_id=self.settings.resource_id,
            measurement="real_power",
            unit="W",
            scale="k",
            sampling_rate=timedelta(seconds=self.settings.report_interval_s),
            report_duration=timedelta(hours=1),
        )
        return client

    async def _run(self) -> None:
        while True:
            self.client = self._new_client()
            try:
                await self.client.run()
            except Exception as exc:  # noqa: BLE001 (openleadr raises whatever it meets)
                self._failed(
                    UpstreamError(f"VTN {self.settings.vtn_url}: {type(exc).__name__}: {exc}")
                )
            if self.client is not None and self.client.registration_id:
                log.info(
                    "openadr %s: registered with %s as %s",
                    self.name,
                    self.settings.vtn_url,
                    self.client.ven_id,
                )
                await asyncio.Event().wait()  # openleadr polls on its own scheduler now
            self._failed(UpstreamError(f"VTN {self.settings.vtn_url}: registration failed"))
            await self._close_client()
            await self.clock.sleep(self.settings.retry_s)

    def _failed(self, error: SignalError) -> None:
        if self._sink is not None:
            self._sink.error(self.name, error)

    def _polled(self, answered: bool) -> None:
        if answered != self._reachable:
            if answered:
                log.info("openadr %s: VTN answers", self.name)
            else:
                log.warning("openadr %s: VTN does not answer", self.name)
            self._reachable = answered
        if not answered:
            self._failed(UpstreamError(f"VTN {self.settings.vtn_url}: poll not answered"))
        elif self._sink is not None:
            self._pending = asyncio.ensure_future(
                self._sink.emit(Contact(source=self.name, origin_at=self.clock.time()))
            )

    def _report_kw(self) -> float | None:
        return self.site_kw()

    async def _on_event(self, event: dict[str, Any]) -> str:
        """openleadr's handler: the answer is the opt the VEN sends back."""
        now = self.clock.time()
        version = int((event.get("event_descriptor") or {}).get("modification_number") or 0)
        event_id = str((event.get("event_descriptor") or {}).get("event_id", "?"))
        try:
            update = event_update(
                self.name,
                event,
                now,
                simple=self.settings.simple_levels_kw,
                offsets=self.settings.offset_levels_kw,
                capacity_kw=self.settings.capacity_kw,
            )
        except BadSignal as exc:
            return await self._opt(event_id, version, OPT_OUT, f"refused: {exc}", exc)
        if update.level_mw is not None and update.level_mw * 1e3 < self.settings.floor_kw:
            reason = (
                f"level {update.level_mw * 1e3:.0f} kW is below what the site cannot shed"
                f" ({self.settings.floor_kw:.0f} kW)"
            )
            return await self._opt(event_id, version, OPT_OUT, reason, None)
        error = await self._submit(update)
        if error is not None:
            return await self._opt(event_id, version, OPT_OUT, f"refused: {error}", None)
        if update.action is EventAction.CANCEL:
            return await self._opt(event_id, version, OPT_IN, "cancelled", None)
        level = "no limit" if update.level_mw is None else f"{update.level_mw * 1e3:.0f} kW"
        return await self._opt(event_id, version, OPT_IN, f"will meet {level}", None)

    async def _submit(self, update: EventUpdate) -> SignalError | None:
        sink = self._sink
        submit = getattr(sink, "submit", None)
        if submit is not None:
            result: SignalError | None = await submit(update)
            return result
        if sink is not None:
            await sink.emit(update)
        return None

    async def _opt(
        self, event_id: str, version: int, opt: str, reason: str, error: SignalError | None
    ) -> str:
        if error is not None and self._sink is not None:
            reject = getattr(self._sink, "reject", None)
            (reject or self._sink.error)(self.name, error)
        self.opts.append((event_id, version, opt, reason))
        log.info(
            "openadr %s: %s event %s (version %d): %s", self.name, opt, event_id, version, reason
        )
        note = getattr(self._sink, "note", None)
        if note is not None:
            data = {
                "event_id": event_id,
                "modification_number": version,
                "opt": opt,
                "reason": reason,
            }
            await note(JournalKind.SIGNAL_OPENADR_OPT, self.name, data)
        return opt
