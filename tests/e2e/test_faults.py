"""Faults as a real site meets them, judged by the truth: the simulator's device power plus
the site's base load, read from its control plane every 0.25 s, never the controller's view.

On the small example site (a lying S21 among 36 units, 40 kW of cooling and offices), an
85 kW level due in 60 s: ``kill -9`` at +0.2, +1, +3 and +30 s and a restart still meet it,
waking no unit shed for it and repeating no command; the lying unit is found and covered
before the deadline; with the meter stalled the report never claims "met".
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.conftest import free_port
from tests.e2e.faults import (
    LEVEL_W,
    TOLERANCE_W,
    Daemon,
    Sim,
    duplicate_commands,
    simulated,
    small_config,
    small_site,
    wakes_of_shed_devices,
)
from tests.e2e.helpers import FAST_TIMINGS, TOKEN, Api, controller_config, until

LIAR = 61  # 127.0.1.61 in the example: acknowledges sleep, keeps hashing
DEADLINE_S = 60.0
HOLD_S = 4.0  # the level held this long counts as met (the tests stop there)


async def _measured_other_load(daemon: Daemon) -> None:
    """Until the daemon has measured the site's other load (a restart starts from it)."""
    await until(lambda: bool(daemon.rows("site.other_load")), timeout=30)


async def _instruct(api: Api, level_w: float, within_s: float) -> tuple[dict[str, Any], float]:
    """An instructed event to ``level_w`` due ``within_s`` after it is made: the event as
    the API answers it, and when it was made."""
    event = await api.call(
        "POST",
        "/events",
        {"kind": "instructed", "level_mw": level_w / 1e6, "within_s": within_s},
        status=201,
    )
    return event, float(event["created_at"])


@asynccontextmanager
async def _small_site_running(
    prefix: str, tmp_path: Path
) -> AsyncIterator[tuple[Sim, Daemon, Api]]:
    """The small example site on ``prefix`` under a daemon that has measured the site's
    other load; the daemon is stopped on the way out (its journal stays readable)."""
    site, base_w = small_site(prefix)
    async with simulated(site, base_w) as sim, aiohttp.ClientSession() as session:
        port = free_port()
        meter_port = next(e["port"] for e in site["devices"] if e["make"] == "meter")
        config = small_config(prefix, port, meter_port, tmp_path / "journal.sqlite")
        daemon = Daemon(config, tmp_path)
        api = Api(session, port, TOKEN)
        try:
            await daemon.start(api)
            await _measured_other_load(daemon)
            yield sim, daemon, api
        finally:
            await daemon.stop()


KILL_AT = (None, 0.2, 1.0, 3.0, 30.0)  # None: the same event with no kill, for comparison


@pytest.mark.slow
async def test_an_event_is_met_by_its_deadline_through_a_kill_9(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """Each moment on its own site and daemon, all five side by side: each one mostly waits
    on the event's clock, so together they take the time of one (30 s, not 150 s)."""
    moments = [
        _met_through_a_kill_9(
            k, prefix=f"127.0.{130 + i}", tmp_path=tmp_path_factory.mktemp(f"kill-{k}")
        )
        for i, k in enumerate(KILL_AT)
    ]
    outcomes = await asyncio.gather(*moments, return_exceptions=True)
    failed = [(k, o) for k, o in zip(KILL_AT, outcomes, strict=True) if o is not None]
    for _, outcome in failed:
        if not isinstance(outcome, Exception):
            raise outcome  # a cancellation or Ctrl-C, not a failed moment
    if failed:
        summary = "; ".join(f"kill at {k}: {o!r}" for k, o in failed)
        raise AssertionError(summary) from failed[0][1]


async def _met_through_a_kill_9(kill_at: float | None, *, prefix: str, tmp_path: Path) -> None:
    liar = f"{prefix}.{LIAR}"
    async with _small_site_running(prefix, tmp_path) as (sim, daemon, api):
        assert sim.truth.samples[-1][1] > LEVEL_W + 50_000  # the whole site runs
        event, created = await _instruct(api, LEVEL_W, DEADLINE_S)
        deadline = created + DEADLINE_S
        if kill_at is not None:
            await asyncio.sleep(max(0.0, created + kill_at - time.time()))
            await daemon.kill()
            await daemon.start(api)

        def met() -> bool:
            return sim.truth.met_at(LEVEL_W, created, HOLD_S) is not None

        await until(met, timeout=deadline - time.time() + HOLD_S)
        met_at = sim.truth.met_at(LEVEL_W, created, HOLD_S)
        assert met_at is not None
        assert met_at <= deadline, f"met {met_at - created:.1f} s after the event"
        # The lying unit reads back asleep and keeps hashing: found within 30 s.
        await until(lambda: _stuck(daemon, liar), timeout=created + 31 - time.time())
        await asyncio.sleep(1.0)  # the plan that covers it
    rows = daemon.rows()
    # The truth stayed under the level from then on, to the last sample.
    after = [w for t, w in sim.truth.samples if t >= met_at]
    assert max(after) <= LEVEL_W + TOLERANCE_W
    started = [r for r in rows if r["kind"] == "daemon.started"]
    assert len(started) == (1 if kill_at is None else 2)
    assert not wakes_of_shed_devices(rows, created)
    stuck = {r["subject"] for r in rows if r["kind"] == "device.stuck"}
    assert not duplicate_commands(rows, created, stuck)
    # The lying unit was marked stuck within 30 s of the event, others shed in its place.
    marked = [r["at"] for r in rows if r["kind"] == "device.stuck" and r["subject"] == liar]
    assert marked, "the lying unit was never marked stuck"
    if kill_at is None or kill_at >= 30:
        assert marked[0] - created <= 30.0
    plans = [r for r in rows if r["kind"] == "plan" and r["at"] >= marked[0]]
    covered = [p for p in plans if liar in p["data"].get("compensation", {}).get("for", [])]
    assert covered, "no plan counted the lying unit at its draw"
    assert covered[0]["at"] <= deadline
    if kill_at is not None:
        restart = started[1]
        assert restart["data"]["active_events"] == [event["event_id"]]
        first = next(r for r in rows if r["kind"] == "plan" and r["run"] == 2)
        # A restarted daemon plans at once, from the other load it had measured.
        assert first["at"] - restart["at"] < 10.0
        assert not any("other load 0.0 kW" in n for n in first["data"]["notes"])


def _stuck(daemon: Daemon, device: str) -> bool:
    return any(r["subject"] == device for r in daemon.rows("device.stuck"))


@pytest.mark.slow
async def test_meter_stalled_for_the_whole_event_never_claims_met(tmp_path: Path) -> None:
    prefix = "127.0.135"
    within_s = 15.0
    async with _small_site_running(prefix, tmp_path) as (sim, daemon, api):
        sim.fleet.meters[0].faults.inject("stall")
        await _meter_down(api)
        event, created = await _instruct(api, LEVEL_W, within_s)
        await asyncio.sleep(created + within_s + 2.0 - time.time())
        report = await api.call("GET", f"/events/{event['event_id']}/report")
        status = await api.call("GET", "/status")
    rows = daemon.rows("meter.sample")
    deadline = created + within_s
    assert report["compliance"] != "met"
    assert report["met_by_deadline"] is not True
    if report["compliance"] == "met (estimated)":
        assert sim.truth.at(deadline) <= LEVEL_W + 2 * TOLERANCE_W  # the estimate was right
    assert report["confirmed_by"].startswith("estimated")
    assert status["site_power"]["source"] == "estimated"
    # Every estimated sample counts the other load: near the truth, never the devices alone.
    estimated = [r for r in rows if r["data"]["source"] == "estimated" and r["at"] >= created + 3]
    assert estimated
    for row in estimated:
        truth = sim.truth.at(row["at"])
        assert abs(row["data"]["watts"] - truth) <= 0.1 * truth, (row, truth)


async def _meter_down(api: Api) -> None:
    async with asyncio.timeout(15):
        while (await api.call("GET", "/status"))["site_power"]["source"] != "estimated":
            await asyncio.sleep(0.2)


FAULTS = ("refuse", "stall", "malformed", "ack_sleep_keep_hashing")


def _large_site() -> tuple[dict[str, Any], dict[str, Any], dict[str, str]]:
    """300 miners on 127.0.140-142 with a meter on .143; every fifth one faulty, the four
    faults in turn. Returns the site, the controller's device groups, and the faults."""
    makes = [
        ("antminer", "S19j Pro", "127.0.140", 120, {}),
        ("whatsminer", "M30S++", "127.0.141", 100, {"api_writes": True}),
        ("auradine", "AT1500", "127.0.142", 80, {}),
    ]
    entries: list[dict[str, Any]] = []
    groups: list[dict[str, Any]] = []
    faulty: dict[str, str] = {}
    n = 0
    for make, model, prefix, count, extra in makes:
        entries.append(
            {
                "make": make,
                "model": model,
                "count": count,
                "start": f"{prefix}.1",
                "timings": FAST_TIMINGS,
                **extra,
            }
        )
        groups.append({"make": make, "start": f"{prefix}.1", "count": count})
        for i in range(count):
            if n % 5 == 0:
                faulty[f"{prefix}.{i + 1}"] = FAULTS[(n // 5) % len(FAULTS)]
            n += 1
    meter = {
        "make": "meter",
        "address": "127.0.143.250",
        "base_load_w": 100_000.0,
        "port": free_port("127.0.143.250"),
    }
    return {"site": "large", "devices": [*entries, meter]}, {"groups": groups}, faulty


@pytest.mark.slow
async def test_a_fifth_of_300_units_faulty_the_event_is_met_and_every_failure_named(
    tmp_path: Path,
) -> None:
    site, config_devices, faulty = _large_site()
    assert len(faulty) == 60
    level_w = 450_000.0
    async with simulated(site, 100_000.0) as sim, aiohttp.ClientSession() as session:
        for address, fault in faulty.items():
            sim.fleet.device(address).faults.inject(fault)
        port = free_port()
        config = controller_config(
            port,
            config_devices["groups"],
            str(tmp_path / "journal.sqlite"),
            poll_interval_s=1.0,
            poll_timeout_s=2.0,
            meter={
                "host": "127.0.143.250",
                "port": site["devices"][-1]["port"],
                "interval_s": 0.5,
                "settle_s": 2.0,
            },
            control={
                "confirm_after_s": 30.0,
                "reconfirm_delays_s": [15.0, 60.0],
                "stuck_hold_s": 600,
            },
            policy={"plan_interval_s": 300.0, "max_device_age_s": 60},
        )
        config["credentials"] = {"whatsminer": {"password": "admin"}}
        daemon = Daemon(config, tmp_path)
        api = Api(session, port, TOKEN)
        down = {a for a, f in faulty.items() if f != "ack_sleep_keep_hashing"}
        try:
            await daemon.start(api)

            async def unreachable() -> int:
                status = await api.call("GET", "/status")
                return int(status["by_health"].get("unreachable", 0))

            async with asyncio.timeout(30):
                while await unreachable() < len(down):
                    await asyncio.sleep(0.5)
            await _measured_other_load(daemon)
            event, created = await _instruct(api, level_w, DEADLINE_S)
            deadline = created + DEADLINE_S

            def met() -> bool:
                return sim.truth.met_at(level_w, created, HOLD_S) is not None

            await until(met, timeout=deadline - time.time() + HOLD_S)
            liars = {a for a, f in faulty.items() if f == "ack_sleep_keep_hashing"}
            await until(
                lambda: liars <= {r["subject"] for r in daemon.rows("device.stuck")},
                timeout=deadline - time.time(),
            )
            await asyncio.sleep(max(0.0, deadline + 1.0 - time.time()))
            report = await api.call("GET", f"/events/{event['event_id']}/report")
        finally:
            await daemon.stop()
    met_at = sim.truth.met_at(level_w, created, HOLD_S)
    assert met_at is not None
    assert met_at <= deadline
    assert report["compliance"] == "met"  # on the meter, by the deadline
    assert report["met_by_deadline"] is True
    failed = {f["device"]: f for f in report["failed_devices"]}
    assert set(faulty) <= set(failed)
    assert all(failed[a].get("before_event") for a in down)
