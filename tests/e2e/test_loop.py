"""The control loop end to end on a simulated mixed site (Antminer S19j Pro/S19 XP/S21,
Whatsminer M30S++ on API v2 and M60S on API v3, Auradine AT1500, two H200 GPU nodes, one
contracted and one interruptible) with a Modbus meter. No scheduler is configured here:
GPU nodes are power-capped only (tests/e2e/test_slurm.py drains them in Slurm)."""

from __future__ import annotations

import asyncio
import itertools

import pytest

from tests.e2e.conftest import BASE_LOAD_W, SiteFactory
from tests.e2e.helpers import gpu_limits, until

FULL = {700.0}  # an H200's default power limit, per GPU

# Break-even at $45/PH/day: M30S++ $60, S19j Pro $64, S19 XP $87, M60S $101, S21 $107,
# AT1500 $117 per MWh.
CHEAP = ("S19j Pro", "S19 XP", "M30S++")


async def test_follows_a_price_change(running_site: SiteFactory) -> None:
    async with running_site("127.0.111") as site:
        assert len(site.running()) == 30
        await site.api.call("PUT", "/economics", {"power_price_usd_per_mwh": 90, "source": "t"})
        cheap = {d.address for d in site.sim.devices if d.model in CHEAP}
        await until(lambda: set(site.running()) == site.miners() - cheap)
        plan = await site.api.call("GET", "/plan")
        assert any("break-even $64/MWh < price $90/MWh" in r for r, _ in plan["reasons"])
        # AI work is worth more than $90/MWh: both GPU nodes keep their full power limit.
        assert gpu_limits(site.sim, site.contracted) == gpu_limits(site.sim, site.interruptible)
        assert gpu_limits(site.sim, site.contracted) == FULL
        economics = await site.api.call("GET", "/economics")
        assert economics["power_price"]["source"] == "t"
        await site.api.call("PUT", "/economics", {"power_price_usd_per_mwh": 20})
        await until(lambda: len(site.running()) == 30)
        results = await site.api.call("GET", "/journal?kind=command.result&limit=1000")
        assert {e["data"]["result"] for e in results["entries"]} == {"applied"}


@pytest.mark.slow
async def test_instructed_event_met_on_the_meter_with_a_tenth_of_miners_faulty(
    running_site: SiteFactory,
) -> None:
    """On simulated time: the event's ten minutes and the staggered restore take seconds."""
    overrides = {"policy": {"reserve_mw": 0.003}}
    async with running_site("127.0.112", sim_time=True, **overrides) as site:
        assert gpu_limits(site.sim, site.interruptible) == FULL
        faulty = {
            "127.0.112.1": "refuse",  # Antminer S19j Pro
            "127.0.112.31": "stall",  # Whatsminer M30S++ (API v2)
            "127.0.112.11": "ack_sleep_keep_hashing",  # Antminer S19 XP: lies about sleeping
        }
        for address, fault in faulty.items():
            site.sim.device(address).faults.inject(fault)
        # Planned at nameplate: 27 miners asleep 0.78 kW, the 3 faulty ones 9.43 kW, the
        # contracted node 10.2 kW; 28.6 kW under the limit leaves the interruptible node
        # 8.2 kW: once the faulty units are found out, it is capped to make up for them.
        level_mw, within_s = 0.0316, 600.0  # within: simulated seconds, an ERS-10 deployment
        started = site.now()
        event = await site.api.call(
            "POST",
            "/events",
            {"kind": "instructed", "level_mw": level_mw, "within_s": within_s, "source": "ERCOT"},
            status=201,
        )
        event_id = event["event_id"]
        await until(lambda: site.controller.events.confirmed(event_id), timeout=20)
        assert site.now() <= started + within_s
        # Confirmed on the meter, and the simulators' ground truth agrees.
        assert site.sim_power() + BASE_LOAD_W <= level_mw * 1e6 + 500
        stuck = set(faulty)
        await until(
            lambda: (
                {r.identity.device_id for r in site.controller.fleet if r.stuck_until > site.now()}
                >= stuck
            ),
            timeout=15,
        )
        loop = site.controller.loop

        def noted() -> bool:
            notes = loop.view.notes if loop.view else ()
            return any(n.startswith("compensation: 3 device(s) did not act") for n in notes)

        await until(noted, timeout=5)
        await site.sim.clock.sleep(20.0)  # the meter keeps sampling the held level
        report = await site.api.call("GET", f"/events/{event_id}/report")
        assert report["met_by_deadline"] is True
        assert report["confirmed_by"] == "meter"
        assert report["time_to_50_s"] <= report["time_to_90_s"] <= report["time_to_100_s"]
        assert report["time_to_100_s"] <= site.now() - started
        assert {f["device"] for f in report["failed_devices"]} >= stuck
        assert report["compensation"]["for"] == sorted(stuck)
        assert report["compensation"]["shed_in_their_place"]
        assert report["sustained"]["max_w"] <= level_mw * 1e6 + 500
        # The contracted node is untouched; the interruptible one is capped, as its agent
        # reads back and the simulated node enforces.
        assert gpu_limits(site.sim, site.contracted) == FULL
        capped = gpu_limits(site.sim, site.interruptible)
        assert len(capped) == 1
        assert 200.0 <= capped.pop() < 700.0
        assert site.interruptible in report["compensation"]["shed_in_their_place"]
        text = await site.api.session.get(f"{site.api.base}/events/{event_id}/report?format=text")
        assert "met by deadline   met" in await text.text()
        metrics = await site.api.session.get(site.api.base.removesuffix("/api/v1") + "/metrics")
        body = await metrics.text()
        assert f'hashpivot_event_level_watts{{event="{event_id}",kind="instructed"' in body
        assert "hashpivot_journal_up{" in body

        # Restore after the event: staggered, most valuable first, faulty units left out.
        for address in faulty:
            site.sim.device(address).faults.clear()
        cancelled_at = site.now()
        await site.api.call("DELETE", f"/events/{event_id}")
        healthy = site.miners() - stuck
        await until(lambda: healthy <= set(site.running()), timeout=20)
        sent = await site.api.call("GET", "/journal?kind=command.sent&limit=5000")
        wakes = sorted(
            e["at"]
            for e in sent["entries"]
            if e["data"]["command"] == "wake" and e["at"] >= cancelled_at
        )
        assert len(wakes) >= 10
        gaps = [b - a for a, b in itertools.pairwise(wakes)]
        assert min(gaps) >= 0.75  # wake_stagger_s 1 (simulated), never all at once
        assert not any(
            e["subject"] in stuck and e["at"] >= cancelled_at and e["data"]["command"] == "wake"
            for e in sent["entries"]
        )
        await until(lambda: gpu_limits(site.sim, site.interruptible) == FULL, timeout=10)


async def test_a_relay_trip_latches_until_cleared(running_site: SiteFactory) -> None:
    """On simulated time: the latch is held over plan intervals, the restore staggered."""
    async with running_site("127.0.113", sim_time=True) as site:
        trip = await site.api.call(
            "POST",
            "/events",
            {"kind": "relay_trip", "level_mw": 0, "source": "relay"},
            status=201,
        )
        await until(lambda: not site.running())
        await until(lambda: gpu_limits(site.sim, site.interruptible) == {200.0}, timeout=10)
        # The trip window ends, but nothing comes back until an operator clears the latch.
        await site.api.call("DELETE", f"/events/{trip['event_id']}")
        plans = site.controller.loop.stats.plans
        await site.sim.clock.sleep(75.0)  # more than two plan intervals (simulated)
        assert site.controller.loop.stats.plans >= plans + 2
        assert not site.running()
        plan = await site.api.call("GET", "/plan")
        assert plan["relay_latched"] is True
        assert any("relay trip latched" in note for note in plan["notes"])
        assert gpu_limits(site.sim, site.interruptible) == {200.0}
        await site.api.call("POST", "/relay/clear")
        await until(lambda: len(site.running()) == 30, timeout=20)
        await until(lambda: gpu_limits(site.sim, site.interruptible) == FULL, timeout=10)


async def test_meter_outage_falls_back_to_telemetry_and_says_so(
    running_site: SiteFactory,
) -> None:
    async with running_site("127.0.114") as site:
        site.meter.faults.inject("refuse")
        await until(lambda: not site.controller.site_power.meter_ok, timeout=5)
        status = await site.api.call("GET", "/status")
        assert status["site_power"]["source"] == "estimated"
        assert "meter unavailable" in status["site_power"]["detail"]
        event = await site.api.call(
            "POST",
            "/events",
            {"kind": "instructed", "level_mw": 0.06, "within_s": 20},
            status=201,
        )
        await until(lambda: site.controller.events.confirmed(event["event_id"]), timeout=20)
        report = await site.api.call("GET", f"/events/{event['event_id']}/report")
        assert report["confirmed_by"].startswith("estimated: device telemetry plus the last known")


async def test_dry_run_overrides_and_pause(running_site: SiteFactory) -> None:
    async with running_site("127.0.115", control={"dry_run": True}) as site:
        await site.api.call("PUT", "/economics", {"power_price_usd_per_mwh": 500})
        await until(lambda: bool(site.controller.loop.view and site.controller.loop.view.commands))
        plan = await site.api.call("GET", "/plan")
        assert plan["dry_run"] is True
        # At $500/MWh every miner sleeps and spot AI work ($200/MWh per capped MW) is capped.
        commands = sorted(c["command"] for c in plan["command_list"])
        assert commands == ["set_gpu_power_limit:200"] + ["sleep"] * 30
        await asyncio.sleep(0.5)
        assert len(site.running()) == 30  # nothing was sent
        assert site.controller.loop.stats.sent == 0
    async with running_site("127.0.116") as site:
        target = "127.0.116.21"
        await site.api.call(
            "PUT", f"/overrides/{target}", {"action": "force_sleep", "ttl_s": 2, "reason": "fan"}
        )
        await until(lambda: target not in site.running())
        await site.api.call("POST", "/control/pause", {"reason": "maintenance"})
        status = await site.api.call("GET", "/status")
        assert status["control"]["paused"] is True
        await asyncio.sleep(2.5)  # the override expired, but control is paused
        assert target not in site.running()
        await site.api.call("POST", "/control/resume")
        await until(lambda: target in site.running())
        devices = await site.api.call("GET", "/devices?make=whatsminer&state=hashing")
        assert devices["total"] == 8
