"""The OpenADR 2.0b VEN against openleadr's own OpenADRServer (the VTN) on loopback."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from controller import policy
from controller.signals.config import SignalsConfig, build_sources
from controller.signals.errors import BadSignal, ErrorKind
from controller.signals.openadr import OpenAdrVen, event_update
from tests.conftest import free_port
from tests.signals.conftest import HubRig
from tests.signals.vtn import VEN_ID, Vtn, running_vtn


async def until(predicate: Any, timeout: float = 15.0) -> None:
    async with asyncio.timeout(timeout):
        while not predicate():
            await asyncio.sleep(0.05)


@pytest.fixture
async def vtn() -> AsyncIterator[Vtn]:
    async with running_vtn() as box:
        yield box


def ven(url: str, rig: HubRig) -> OpenAdrVen:
    """Built as the daemon builds it, from a ``signals.openadr`` section."""
    section = {
        "vtn_url": url,
        "ven_name": "site-1",
        "simple_levels_kw": {1: 800.0, 2: 400.0, 3: 50.0},
        "offset_levels_kw": {1: 600.0},
        "capacity_kw": 1000.0,
        "floor_kw": 100.0,
        "report_interval_s": 1,
        "stale_after_s": 60,
        "retry_s": 0.5,
    }
    config = SignalsConfig.model_validate({"openadr": section})
    [source] = build_sources(config, rig.clock, site_kw=lambda: 950.0)
    assert isinstance(source, OpenAdrVen)
    return source


async def test_events_opts_reports_and_cancellation(vtn: Vtn, rig: HubRig) -> None:
    source = ven(vtn.url, rig)
    rig.hub.add(source)
    stop = asyncio.Event()
    task = asyncio.create_task(rig.hub.run(stop))
    try:
        await until(lambda: source.client is not None and source.client.registration_id)
        await until(lambda: rig.hub.stats["openadr"].last_contact_at is not None)
        vtn.add("ev-1", "LOAD_CONTROL", "x-loadControlCapacity", 0.5)
        await until(lambda: ("ev-1", "optIn") in vtn.opts)
        event = rig.state.events[rig.hub.event_id("openadr", "ev-1")]
        assert event.level_mw == pytest.approx(0.5)
        assert event.kind is policy.EventKind.INSTRUCTED
        assert event.deadline == pytest.approx(event.start)
        # SIMPLE level 3 is 50 kW: below what the site cannot shed, so the VEN opts out.
        vtn.add("ev-2", "SIMPLE", "level", 3)
        await until(lambda: ("ev-2", "optOut") in vtn.opts)
        assert rig.hub.event_id("openadr", "ev-2") not in rig.state.events
        vtn.server.cancel_event(VEN_ID, "ev-1")
        await until(lambda: rig.state.events[event.event_id].cancelled_at is not None)
        await until(lambda: len(vtn.reports) >= 2, timeout=20)
        assert vtn.reports[-1] == pytest.approx(950.0)
        opts = await rig.journal.entries(["signal.openadr_opt"])
        assert {(e.data["event_id"], e.data["opt"]) for e in opts} >= {
            ("ev-1", "optIn"),
            ("ev-2", "optOut"),
        }
        assert any("below what the site cannot shed" in e.data["reason"] for e in opts)
    finally:
        stop.set()
        await task


async def test_an_unreachable_vtn_is_retried_and_counted(rig: HubRig) -> None:
    source = ven(f"http://127.0.0.1:{free_port()}/OpenADR2/Simple/2.0b", rig)
    rig.hub.add(source)
    stop = asyncio.Event()
    task = asyncio.create_task(rig.hub.run(stop))
    await until(lambda: sum(rig.hub.stats["openadr"].errors.values()) >= 2)
    assert set(rig.hub.stats["openadr"].errors) == {ErrorKind.UPSTREAM}
    stop.set()
    await task


@pytest.mark.parametrize(
    ("signal", "kw"),
    [
        (
            {
                "signal_name": "SIMPLE",
                "signal_type": "level",
                "intervals": [{"signal_payload": 1}, {"signal_payload": 2}],
            },
            400.0,
        ),
        (
            {"signal_name": "simple", "signal_type": "level", "intervals": [{"signal_payload": 0}]},
            None,
        ),
        (
            {
                "signal_name": "LOAD_CONTROL",
                "signal_type": "x-loadControlLevelOffset",
                "intervals": [{"signal_payload": 1}],
            },
            600.0,
        ),
        (
            {
                "signal_name": "LOAD_CONTROL",
                "signal_type": "x-loadControlCapacity",
                "intervals": [{"signal_payload": 0.25}],
            },
            250.0,
        ),
    ],
)
def test_signal_mapping(signal: dict[str, Any], kw: float | None) -> None:
    now = time.time()
    event = {
        "event_descriptor": {"event_id": "e", "modification_number": 2, "event_status": "far"},
        "active_period": {
            "dtstart": datetime.fromtimestamp(now + 60, UTC),
            "duration": timedelta(minutes=30),
        },
        "event_signals": [signal],
    }
    update = event_update(
        "openadr", event, now, simple={1: 800.0, 2: 400.0}, offsets={1: 600.0}, capacity_kw=1000.0
    )
    assert update.sequence == 2
    assert update.end == pytest.approx(now + 60 + 1800)
    assert (None if update.level_mw is None else update.level_mw * 1e3) == kw


@pytest.mark.parametrize(
    "signal",
    [
        {"signal_name": "SIMPLE", "signal_type": "level", "intervals": [{"signal_payload": 7}]},
        {"signal_name": "SIMPLE", "signal_type": "level", "intervals": [{"signal_payload": -1}]},
        {
            "signal_name": "LOAD_CONTROL",
            "signal_type": "x-loadControlCapacity",
            "intervals": [{"signal_payload": 1.5}],
        },
        {
            "signal_name": "ELECTRICITY_PRICE",
            "signal_type": "price",
            "intervals": [{"signal_payload": 0.3}],
        },
        {"signal_name": "SIMPLE", "signal_type": "level", "intervals": []},
    ],
)
def test_signals_it_cannot_honour_are_typed_errors(signal: dict[str, Any]) -> None:
    event = {
        "event_descriptor": {"event_id": "e"},
        "active_period": {"dtstart": datetime.now(UTC), "duration": timedelta(0)},
        "event_signals": [signal],
    }
    with pytest.raises(BadSignal):
        event_update(
            "openadr", event, time.time(), simple={1: 800.0}, offsets={}, capacity_kw=1000.0
        )


_ANY = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=8)
    | st.datetimes(timezones=st.just(UTC))
    | st.timedeltas(max_value=timedelta(days=30)),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(
            st.sampled_from(
                [
                    "event_descriptor",
                    "event_id",
                    "modification_number",
                    "event_status",
                    "active_period",
                    "dtstart",
                    "duration",
                    "event_signals",
                    "signal_name",
                    "signal_type",
                    "intervals",
                    "signal_payload",
                ]
            ),
            inner,
            max_size=5,
        )
    ),
    max_leaves=15,
)


@settings(max_examples=300, deadline=None)
@given(_ANY)
def test_fuzz_the_event_mapping_only_raises_bad_signal(event: Any) -> None:
    if not isinstance(event, dict):
        event = {"event_descriptor": {"event_id": "e"}, "active_period": {}, "event_signals": event}
    with contextlib.suppress(BadSignal):
        event_update(
            "openadr", event, time.time(), simple={1: 800.0}, offsets={1: 1.0}, capacity_kw=1000.0
        )
