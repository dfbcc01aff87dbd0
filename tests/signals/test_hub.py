"""The hub: what it accepts goes through the command service into the journal; what it
refuses is typed, logged and counted, and never undoes what was accepted before."""

from __future__ import annotations

import logging

import pytest

from controller import policy
from controller.signals.errors import ErrorKind
from controller.signals.source import AgeFrom
from controller.signals.updates import (
    Contact,
    EventAction,
    EventUpdate,
    FlagUpdate,
    HashpriceUpdate,
    PriceInterval,
    PriceMarket,
    PriceUpdate,
    RelayUpdate,
)
from tests.signals.conftest import HubRig


def rt(source: str, *points: tuple[float, float]) -> PriceUpdate:
    intervals = tuple(PriceInterval(start=s, end=s + 900, usd_per_mwh=p) for s, p in points)
    return PriceUpdate(
        source=source,
        origin_at=intervals[-1].end,
        market=PriceMarket.REAL_TIME,
        intervals=intervals,
    )


def errors(rig: HubRig, source: str) -> dict[str, int]:
    return {k.value: n for k, n in rig.hub.stats[source].errors.items()}


async def test_a_real_time_price_is_journaled_with_origin_and_arrival(rig: HubRig) -> None:
    now = rig.clock.time()
    await rig.hub.emit(rt("ercot_rt", (now - 1800, 30.0), (now - 900, 95.5)))
    assert rig.state.price is not None
    assert rig.state.price.power_price_usd_per_mwh == 95.5
    assert rig.state.price.as_of == now  # the newest interval's end: its time of origin
    assert rig.state.price.source == "ercot_rt"
    [entry] = await rig.journal.entries(["economics.updated"])
    assert entry.actor == "signal:ercot_rt"
    assert entry.data["as_of"] == now
    assert entry.data["arrived_at"] == now
    assert [row[2] for row in entry.data["intervals"]] == [30.0, 95.5]
    assert rig.hub.stats["ercot_rt"].updates == 1


@pytest.mark.parametrize(
    ("points", "kind"),
    [
        (((-900, 1e12),), ErrorKind.ABSURD),
        (((-900, -50_000.0),), ErrorKind.ABSURD),
        (((-900, float("nan")),), ErrorKind.ABSURD),
        (((-900, 30.0), (-900, 31.0)), ErrorKind.OUT_OF_ORDER),
        (((3600, 30.0),), ErrorKind.FUTURE),
    ],
)
async def test_bad_prices_are_refused_counted_and_keep_the_last_good_one(
    rig: HubRig,
    points: tuple[tuple[float, float], ...],
    kind: ErrorKind,
    caplog: pytest.LogCaptureFixture,
) -> None:
    now = rig.clock.time()
    await rig.hub.emit(rt("feed", (now - 1800, 42.0)))
    with caplog.at_level(logging.WARNING):
        await rig.hub.emit(rt("feed", *((now + s, p) for s, p in points)))
    assert errors(rig, "feed") == {kind.value: 1}
    assert rig.state.price is not None
    assert rig.state.price.power_price_usd_per_mwh == 42.0
    assert any(f"refused ({kind.value})" in r.getMessage() for r in caplog.records)


async def test_duplicates_and_out_of_order_prices_are_refused(rig: HubRig) -> None:
    now = rig.clock.time()
    await rig.hub.emit(rt("feed", (now - 900, 40.0)))
    await rig.hub.emit(rt("feed", (now - 900, 40.0)))
    await rig.hub.emit(rt("feed", (now - 1800, 41.0)))
    assert errors(rig, "feed") == {"duplicate": 1, "out_of_order": 1}
    assert rig.state.price is not None
    assert rig.state.price.power_price_usd_per_mwh == 40.0


async def test_the_day_ahead_curve_becomes_the_forecast(rig: HubRig) -> None:
    now = rig.clock.time()
    curve = tuple(
        PriceInterval(start=now - 3600 + h * 3600, end=now + h * 3600, usd_per_mwh=20.0 + h)
        for h in range(4)
    )
    update = PriceUpdate(
        source="ercot_dam", origin_at=now, market=PriceMarket.DAY_AHEAD, intervals=curve
    )
    await rig.hub.emit(update)
    await rig.hub.emit(update)
    # The hour that is over is dropped; the same curve again is a counted duplicate.
    assert [p[2] for p in rig.state.forecast] == [21.0, 22.0, 23.0]
    assert rig.state.forecast_source == "ercot_dam"
    assert errors(rig, "ercot_dam") == {"duplicate": 1}


async def test_hashprice_bounds_and_order(rig: HubRig) -> None:
    now = rig.clock.time()
    good = HashpriceUpdate(
        source="mempool", origin_at=now - 60, usd_per_ph_day=48.2, detail=(("difficulty", 1e14),)
    )
    await rig.hub.emit(good)
    await rig.hub.emit(good)
    await rig.hub.emit(HashpriceUpdate(source="mempool", origin_at=now - 120, usd_per_ph_day=47.0))
    await rig.hub.emit(HashpriceUpdate(source="mempool", origin_at=now, usd_per_ph_day=-3.0))
    await rig.hub.emit(HashpriceUpdate(source="mempool", origin_at=now, usd_per_ph_day=1e12))
    assert errors(rig, "mempool") == {"duplicate": 1, "out_of_order": 1, "absurd": 2}
    assert rig.state.hashprice is not None
    assert rig.state.hashprice.hashprice_usd_per_ph_day == 48.2


def event(now: float, seq: int, **kw: object) -> EventUpdate:
    values: dict[str, object] = {
        "source": "vtn",
        "origin_at": now,
        "action": EventAction.CREATE,
        "provider_event_id": "ev/1",
        "sequence": seq,
        "level_mw": 0.5,
        "start": now + 60,
        "end": now + 3600,
        "deadline": now + 600,
    }
    values.update(kw)
    return EventUpdate(**values)  # type: ignore[arg-type]


async def test_event_create_change_cancel_with_versions(rig: HubRig) -> None:
    now = rig.clock.time()
    await rig.hub.emit(event(now, 0))
    event_id = rig.hub.event_id("vtn", "ev/1")
    assert event_id == "vtn-ev_1"
    assert rig.state.events[event_id].level_mw == 0.5
    await rig.hub.emit(event(now, 0))  # redelivered
    await rig.hub.emit(event(now, 2, level_mw=0.3))
    await rig.hub.emit(event(now, 1, level_mw=0.9))  # an older version, late
    assert rig.state.events[event_id].level_mw == 0.3
    await rig.hub.emit(event(now, 3, action=EventAction.CANCEL))
    assert rig.state.events[event_id].cancelled_at is not None
    assert errors(rig, "vtn") == {"duplicate": 1, "out_of_order": 1}
    rows = await rig.journal.entries(["event."])
    assert [e.kind for e in rows] == ["event.created", "event.updated", "event.cancelled"]
    assert all(e.data["origin_at"] == now and e.actor == "signal:vtn" for e in rows)


@pytest.mark.parametrize(
    ("change", "kind"),
    [
        ({"level_mw": -1.0}, ErrorKind.ABSURD),
        ({"level_mw": 1e12}, ErrorKind.ABSURD),
        ({"deadline": -10.0}, ErrorKind.PAST_DEADLINE),
        ({"start": -7200.0, "end": -60.0, "deadline": None}, ErrorKind.PAST_DEADLINE),
        ({"end": 30.0}, ErrorKind.MALFORMED),
        ({"end": 30 * 86_400.0}, ErrorKind.ABSURD),
        ({"action": EventAction.CANCEL, "provider_event_id": "never"}, ErrorKind.UNKNOWN_EVENT),
    ],
)
async def test_bad_events_are_refused(
    rig: HubRig, change: dict[str, float | None], kind: ErrorKind
) -> None:
    now = rig.clock.time()
    shifted = {
        k: (now + v if isinstance(v, float) and k != "level_mw" else v) for k, v in change.items()
    }
    await rig.hub.emit(event(now, 0, **shifted))
    assert errors(rig, "vtn") == {kind.value: 1}
    assert not rig.state.events


async def test_a_relay_trip_creates_one_latching_event(rig: HubRig) -> None:
    now = rig.clock.time()
    for tripped in (False, True, True, False, True):
        await rig.hub.emit(RelayUpdate(source="relay", origin_at=now, tripped=tripped))
        rig.clock.at += 0.5
        now = rig.clock.time()
    trips = [e for e in rig.state.events.values() if e.kind is policy.EventKind.RELAY_TRIP]
    assert len(trips) == 2  # two separate trips, each an event; repeats are no news
    assert len(await rig.journal.entries(["signal.relay_reset"])) == 1


async def test_4cp_flags_become_windows(rig: HubRig) -> None:
    now = rig.clock.time()
    window = {"source": "4cp", "start": now + 900, "end": now + 1800}
    await rig.hub.emit(FlagUpdate(origin_at=now, active=True, **window))  # type: ignore[arg-type]
    await rig.hub.emit(FlagUpdate(origin_at=now + 1, active=True, **window))  # type: ignore[arg-type]
    [four_cp] = rig.state.events.values()
    assert four_cp.kind is policy.EventKind.FOUR_CP
    assert four_cp.start == now + 900
    await rig.hub.emit(FlagUpdate(origin_at=now + 2, active=False, **window))  # type: ignore[arg-type]
    assert rig.state.events[four_cp.event_id].cancelled_at is not None


async def test_a_source_goes_stale_and_fresh_with_one_log_line_each(
    rig: HubRig, caplog: pytest.LogCaptureFixture
) -> None:
    rig.hub.track("mempool", 600.0, AgeFrom.VALUE)
    now = rig.clock.time()
    await rig.hub.emit(HashpriceUpdate(source="mempool", origin_at=now, usd_per_ph_day=45.0))
    with caplog.at_level(logging.INFO, logger="controller.signals.hub"):
        rig.clock.at += 601
        for _ in range(3):
            rig.hub.check_stale()
        assert "mempool" in rig.state.stale_signals
        assert rig.hub.stats["mempool"].stale
        await rig.hub.emit(
            HashpriceUpdate(source="mempool", origin_at=rig.clock.at, usd_per_ph_day=46.0)
        )
        assert "mempool" not in rig.state.stale_signals
    lines = [r.getMessage() for r in caplog.records]
    assert sum("stale" in line for line in lines) == 1
    assert sum("fresh again" in line for line in lines) == 1
    assert rig.loop.triggers.count("signal") == 2


async def test_contact_keeps_a_contact_aged_source_fresh(rig: HubRig) -> None:
    rig.hub.track("vtn", 60.0, AgeFrom.CONTACT)
    for _ in range(3):
        rig.clock.at += 50
        await rig.hub.emit(Contact(source="vtn", origin_at=rig.clock.at))
    assert not rig.hub.stats["vtn"].stale
    assert rig.hub.stats["vtn"].updates == 0
    rig.clock.at += 61
    rig.hub.check_stale()
    assert rig.hub.stats["vtn"].stale
