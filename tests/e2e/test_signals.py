"""Signals end to end on the simulated mixed site: prices from an ERCOT-shaped feed serving
the real August 2023 data (controller/backtest/data/ercot-2023-08), hashprice, a relay
contact, a provider webhook and an openleadr VTN, judged by what the simulated devices do
(from the simulator and its meter), not by the controller's own view."""

from __future__ import annotations

import asyncio
import json
import math
import re
import time
from collections.abc import Callable
from typing import Any

import pytest
from aiohttp import web

from controller.signals.webhook import SIGNATURE, TIMESTAMP, sign
from tests.conftest import free_port
from tests.e2e.conftest import BASE_LOAD_W, SiteFactory
from tests.e2e.helpers import until
from tests.signals.bitcoin_servers import MempoolServer
from tests.signals.ercot_server import ErcotServer, utc
from tests.signals.vtn import VEN_ID, running_vtn

# Break-even at $45/PH/day: M30S++ $60, S19j Pro $64, S19 XP $87, M60S $101, S21 $107,
# AT1500 $117 per MWh. Real LZ_WEST real-time prices, 16 Aug 2023 (UTC interval starts):
# 04:45 $48.62, 05:00 $89.49, 05:15 $32.08.
CHEAP = ("S19j Pro", "S19 XP", "M30S++")


def ercot(server: ErcotServer, *, day_ahead: bool) -> dict[str, Any]:
    return {
        "ercot": {
            "settlement_point": "LZ_WEST",
            "real_time_url": f"{server.base}/np6-905-cd/spp_node_zone_hub",
            "day_ahead_url": f"{server.base}/np4-190-cd/dam_stlmnt_pnt_prices"
            if day_ahead
            else None,
            "real_time_interval_s": 0.2,
            "day_ahead_interval_s": 0.2,
            "timeout_s": 2,
            "stale_after_s": 7200,
        }
    }


def place_real_time(server: ErcotServer) -> float:
    """Real 05:15Z ends at the last quarter hour; returns the shift. Publishes to 04:45Z."""
    now = time.time()
    shift = math.floor(now / 900) * 900 - utc("2023-08-16T05:30:00")
    server.rt_shift_s = shift
    server.rt_published_until = utc("2023-08-16T05:00:00") + shift
    return shift


def hour(ahead: int) -> float:
    """The start of this hour (0) or of a later one, unix seconds."""
    return (math.floor(time.time() / 3600) + ahead) * 3600


async def reasons(site: Any) -> list[str]:
    plan = await site.api.call("GET", "/plan")
    return [r for r, _ in plan["reasons"]]


async def test_a_real_time_price_spike_curtails_and_they_wake_when_it_falls(
    running_site: SiteFactory,
) -> None:
    async with ErcotServer() as server:
        shift = place_real_time(server)
        overrides = {"signals": ercot(server, day_ahead=False), "policy": {"max_price_age_s": 7200}}
        async with running_site("127.0.210", **overrides) as site:
            await until(lambda: site.controller.state.price is not None, timeout=10)
            assert site.controller.state.price.power_price_usd_per_mwh == 48.62  # type: ignore[union-attr]
            assert len(site.running()) == 30
            server.rt_published_until = utc("2023-08-16T05:15:00") + shift  # $89.49 settles
            cheap = {d.address for d in site.sim.devices if d.model in CHEAP}
            await until(lambda: set(site.running()) == site.miners() - cheap)
            assert any("break-even $87/MWh < price $89/MWh" in r for r in await reasons(site))
            server.rt_published_until = utc("2023-08-16T05:30:00") + shift  # $32.08
            await until(lambda: len(site.running()) == 30)
            economics = await site.api.call("GET", "/economics")
            assert economics["power_price"]["source"] == "ercot_rt"
            status = await site.api.call("GET", "/status")
            assert status["signals"]["ercot_rt"]["updates"] == 3
            assert status["signals"]["ercot_rt"]["stale"] is False
            rows = await site.api.call("GET", "/journal?kind=economics.updated&limit=100")
            prices = [
                e["data"]["power_price_usd_per_mwh"]
                for e in rows["entries"]
                if e["actor"] == "signal:ercot_rt"
            ]
            assert prices == [48.62, 89.49, 32.08]  # each once: no duplicate points
            text = await metrics_text(site)
            assert re.search(r'signal_updates_total\{site="[^"]+",source="ercot_rt"\} 3\.0', text)
            assert re.search(r'signal_age_seconds\{site="[^"]+",source="ercot_rt"\}', text)


@pytest.mark.slow
async def test_a_forecast_spike_keeps_sleeping_miners_asleep(running_site: SiteFactory) -> None:
    async with ErcotServer() as server:
        shift = place_real_time(server)
        # Day ahead: a calm curve now (16 Aug 05:00Z on: $31.87, $29.32...).
        server.dam_shift_s = hour(0) - utc("2023-08-16T05:00:00")
        overrides = {
            "signals": ercot(server, day_ahead=True),
            "policy": {"max_price_age_s": 7200, "min_on_dwell_s": 5400},
        }
        async with running_site("127.0.211", **overrides) as site:
            cheap = {d.address for d in site.sim.devices if d.model in CHEAP}
            await until(lambda: site.controller.state.price is not None, timeout=10)
            server.rt_published_until = utc("2023-08-16T05:15:00") + shift  # $89.49
            await until(lambda: set(site.running()) == site.miners() - cheap)
            # The day-ahead curve now shows 17 Aug 18:00Z ($275.48) starting at the next
            # hour, inside the miners' 90-minute minimum on-time; then the real-time price
            # falls. (Day-ahead hours are whole hours: the curve moves by whole hours.)
            server.dam_shift_s = hour(1) - utc("2023-08-17T18:00:00")
            await until(lambda: any(p[2] == 275.48 for p in site.controller.state.forecast))
            server.rt_published_until = utc("2023-08-16T05:30:00") + shift  # $32.08
            await until(lambda: site.controller.state.price.power_price_usd_per_mwh == 32.08)  # type: ignore[union-attr]
            await asyncio.sleep(3.0)  # more than a plan interval
            assert set(site.running()) == site.miners() - cheap
            said = await reasons(site)
            assert any("forecast $275/MWh from" in r and "not woken" in r for r in said), said
            # The forecast calms: they wake.
            server.dam_shift_s = hour(0) - utc("2023-08-16T05:00:00")
            await until(lambda: len(site.running()) == 30, timeout=20)


class HashpriceServer:
    """A direct hashprice URL that answers with a fresh value, or refuses while ``down``.
    ``now`` stamps the value (the controller's clock when it runs on simulated time)."""

    def __init__(self) -> None:
        self.now: Callable[[], float] = time.time
        self.down = False
        self.port = 0
        self._runner: web.AppRunner | None = None

    async def __aenter__(self) -> HashpriceServer:
        async def answer(_: web.Request) -> web.Response:
            if self.down:
                return web.Response(status=503)
            return web.json_response({"hashprice": 45.0, "unit": "USD/PH/day", "as_of": self.now()})

        app = web.Application()
        app.router.add_get("/hashprice", answer)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        self.port = self._runner.addresses[0][1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._runner is not None
        await self._runner.cleanup()


@pytest.mark.slow
async def test_a_stale_hashprice_switches_to_the_safe_policy_and_a_fresh_one_back(
    running_site: SiteFactory,
) -> None:
    """On simulated time: going stale takes minutes of the site's time, seconds of ours."""
    async with HashpriceServer() as server:
        signals = {
            "hashprice": {
                "url": {"url": f"http://127.0.0.1:{server.port}/hashprice"},
                "interval_s": 15,
                "timeout_s": 1,  # real seconds: it bounds the request
                "stale_after_s": 120,
            }
        }
        overrides = {"signals": signals, "policy": {"safe_policy": "sleep_miners"}}
        async with running_site("127.0.212", sim_time=True, **overrides) as site:
            server.now = site.now
            hub = site.controller.signals
            await until(lambda: hub.stats["hashprice_url"].updates > 0, timeout=10)
            assert len(site.running()) == 30
            server.down = True
            await until(lambda: not site.running(), timeout=20)
            plan = await site.api.call("GET", "/plan")
            assert any(
                "stale signal hashprice_url" in n and "safe policy sleep_miners" in n
                for n in plan["notes"]
            )
            metrics = await metrics_text(site)
            assert re.search(r'signal_stale\{site="[^"]+",source="hashprice_url"\} 1\.0', metrics)
            assert re.search(
                r'errors_total\{kind="upstream",site="[^"]+",source="hashprice_url"', metrics
            )
            server.down = False
            await until(lambda: len(site.running()) == 30, timeout=20)
            assert not hub.stats["hashprice_url"].stale


async def metrics_text(site: Any) -> str:
    url = f"http://127.0.0.1:{site.controller.config.listen_port}/metrics"
    async with site.api.session.get(url) as response:
        return await response.text()


@pytest.mark.slow
async def test_a_relay_trip_on_the_modbus_input_sheds_the_site_and_latches_until_cleared(
    running_site: SiteFactory,
) -> None:
    relay = {"interval_s": 0.25, "stale_after_s": 30}
    async with running_site("127.0.213", relay=relay) as site:
        assert len(site.running()) == 30
        running_w = site.meter.snapshot().true_w
        tripped_at = time.time()
        site.meter.set_relay(True)
        await until(
            lambda: any(e.source == "relay" for e in site.controller.state.events.values()),
            timeout=2,
        )
        [trip] = site.controller.state.events.values()
        assert trip.created_at - tripped_at < 1.0  # polled at least twice a second
        await until(lambda: not site.running(), timeout=20)
        # Confirmed on the meter: the site draws what its devices draw asleep. GPU nodes may
        # still be ramping down to their cap on the compressed clock, so the devices are
        # summed on both sides of the meter's sample.
        before_w = site.sim_power()
        metered_w = site.meter.snapshot().true_w - BASE_LOAD_W
        after_w = site.sim_power()
        assert min(before_w, after_w) * 0.95 <= metered_w <= max(before_w, after_w) * 1.05
        assert metered_w + BASE_LOAD_W < 0.25 * running_w
        site.meter.set_relay(False)  # the contact resets by itself: nothing comes back
        await asyncio.sleep(2.5)
        assert not site.running()
        plan = await site.api.call("GET", "/plan")
        assert plan["relay_latched"] is True
        rows = await site.api.call("GET", "/journal?kind=signal.relay_reset")
        assert len(rows["entries"]) == 1
        await site.api.call("POST", "/relay/clear")
        await until(lambda: len(site.running()) == 30, timeout=20)


async def test_a_signed_webhook_creates_an_event_and_bad_ones_are_refused_and_counted(
    running_site: SiteFactory,
) -> None:
    secret = "whsec-e2e-5b1d"
    signals = {"webhooks": {"acme": {"secret": {"value": secret}, "window_s": 300}}}
    async with running_site("127.0.215", signals=signals) as site:
        url = f"http://127.0.0.1:{site.controller.config.listen_port}/api/v1/signals/webhook/acme"

        async def post(body: dict[str, Any], *, at: float, key: str = secret) -> int:
            raw = json.dumps(body).encode()
            stamp = f"{at:.0f}"
            headers = {
                TIMESTAMP: stamp,
                SIGNATURE: sign(key, stamp, raw),
                "Content-Type": "application/json",
            }
            async with site.api.session.post(url, data=raw, headers=headers) as response:
                return response.status

        level_kw = 0.6 * (site.sim_power() + BASE_LOAD_W) / 1e3
        now = time.time()
        event = {
            "event_id": "acme-77",
            "action": "create",
            "level": round(level_kw, 1),
            "unit": "kW",
            "start": now,
            "end": now + 600,
            "deadline": now + 60,
        }
        assert await post(event, at=now, key="not-the-secret") == 401
        assert await post(event, at=now - 3600) == 401  # a replay of an old delivery
        assert not site.controller.state.events
        assert await post(event, at=now) == 202
        assert await post(event, at=now) == 200  # delivered twice: one event
        [created] = site.controller.state.events.values()
        assert created.event_id == "webhook_acme-acme-77"
        # Met on the meter (the simulator's truth) well before its deadline.
        await until(lambda: site.sim_power() + BASE_LOAD_W <= level_kw * 1e3 + 500, timeout=30)
        text = await metrics_text(site)
        for kind in ("signature", "replay", "duplicate"):
            assert f'errors_total{{kind="{kind}",site="e2e",source="webhook_acme"}} 1.0' in text


@pytest.mark.slow
async def test_an_openadr_event_from_a_real_vtn_is_met_on_the_meter_and_cancelled(
    running_site: SiteFactory,
) -> None:
    # capacity_kw is 1 MW; the event asks for 60% of the site's draw now, due in 20 s.
    async with (
        running_vtn() as vtn,
        running_site(
            "127.0.216",
            signals={
                "openadr": {
                    "vtn_url": vtn.url,
                    "ven_name": "e2e-site",
                    "capacity_kw": 1000,
                    "report_interval_s": 1,
                    "retry_s": 1,
                }
            },
        ) as site,
    ):
        hub = site.controller.signals
        await until(lambda: hub.stats["openadr"].last_contact_at is not None, timeout=20)
        assert len(site.running()) == 30
        draw_kw = (site.sim_power() + BASE_LOAD_W) / 1e3
        fraction = round(0.6 * draw_kw / 1000, 4)
        vtn.add("dr-1", "LOAD_CONTROL", "x-loadControlCapacity", fraction, start_in_s=20)
        await until(lambda: ("dr-1", "optIn") in vtn.opts, timeout=15)
        event_id = hub.event_id("openadr", "dr-1")
        event = site.controller.state.events[event_id]
        level_w = fraction * 1000 * 1e3
        await until(lambda: time.time() >= event.start, timeout=30)
        # The simulator's truth, at the deadline: the site is at or below the level.
        assert site.sim_power() + BASE_LOAD_W <= level_w + 500
        await until(lambda: len(vtn.reports) >= 2, timeout=15)
        assert vtn.reports[-1] == pytest.approx((site.sim_power() + BASE_LOAD_W) / 1e3, rel=0.2)
        vtn.server.cancel_event(VEN_ID, "dr-1")
        await until(
            lambda: site.controller.state.events[event_id].cancelled_at is not None, timeout=15
        )
        await until(lambda: len(site.running()) == 30, timeout=30)


@pytest.mark.slow
async def test_every_source_failing_at_once_leaves_the_daemon_planning(
    running_site: SiteFactory,
) -> None:
    async with ErcotServer() as ercot_server, MempoolServer() as mempool:
        place_real_time(ercot_server)
        ercot_server.fault = "garbage"
        mempool.fault = "stall"
        dead = f"http://127.0.0.1:{free_port()}"
        signals = {
            **ercot(ercot_server, day_ahead=True),
            "hashprice": {"mempool": {"url": mempool.base}, "interval_s": 0.3, "timeout_s": 0.5},
            "four_cp": {"url": f"{dead}/4cp.json", "interval_s": 0.3},
            "openadr": {
                "vtn_url": f"{dead}/OpenADR2/Simple/2.0b",
                "ven_name": "e2e",
                "retry_s": 0.5,
            },
            "relay": {
                "host": "127.0.217.251",
                "port": free_port("127.0.217.251"),
                "timeout_s": 0.2,
            },
        }
        async with running_site("127.0.217", signals=signals) as site:
            hub = site.controller.signals
            names = {"ercot_rt", "ercot_dam", "hashprice_mempool", "four_cp", "openadr", "relay"}
            await until(
                lambda: all(sum(hub.stats[n].errors.values()) >= 2 for n in names), timeout=20
            )
            view = site.controller.loop.view
            assert view is not None
            await until(lambda: site.controller.loop.view.seq > view.seq + 1, timeout=10)  # type: ignore[union-attr]
            assert len(site.running()) == 30
            ercot_server.fault = None
            mempool.fault = None
            await until(lambda: hub.stats["ercot_rt"].updates >= 1, timeout=20)
            await until(lambda: hub.stats["hashprice_mempool"].updates >= 1, timeout=20)
