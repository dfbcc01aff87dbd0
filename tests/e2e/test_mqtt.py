"""The site on a real Mosquitto (TLS, passwords, ACL): what it publishes, read by a plain
paho client, and every command, executed once through the API's service and journal."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from controller.integrations.mqtt.executor import ACTOR_PREFIX
from tests.e2e.conftest import SiteFactory
from tests.e2e.helpers import until
from tests.mqtt.broker import PASSWORDS, Broker
from tests.mqtt.client import SECRET, signed
from tests.mqtt.watcher import Watcher, retained

PREFIX = "hashpivot/e2e/"


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Broker]:
    broker = Broker(tmp_path / "mosquitto")
    broker.start()
    try:
        yield broker
    finally:
        broker.stop()


def mqtt_config(broker: Broker, **extra: Any) -> dict[str, Any]:
    return {
        "host": "127.0.0.1",
        "port": broker.tls_port,
        "username": "hashpivot",
        "password": PASSWORDS["hashpivot"],
        "tls": {"ca_file": str(broker.ca)},
        "telemetry_interval_s": 0.5,
        "status_interval_s": 0.5,
        "reconnect_min_s": 0.1,
        "reconnect_max_s": 0.5,
        "timeout_s": 2.0,
        "commands": {"secret": SECRET},
        **extra,
    }


def operator(broker: Broker) -> Watcher:
    return Watcher(broker.tls_port, "operator", PASSWORDS["operator"], ca=broker.ca)


async def command(watcher: Watcher, name: str, command_id: str, args: dict[str, Any]) -> Any:
    watcher.publish(f"{PREFIX}cmd/{name}", signed(name, command_id, args))
    reply_topic = f"{PREFIX}reply/{command_id}"
    await until(lambda: bool(watcher.on(reply_topic)), timeout=10)
    return watcher.on(reply_topic)[0].json()


@pytest.mark.slow
async def test_publishes_the_site_and_carries_out_every_command(
    running_site: SiteFactory, broker: Broker
) -> None:
    config = mqtt_config(broker, homeassistant={"enabled": True})
    async with running_site("127.0.180", mqtt=config) as site:
        controller = site.controller
        assert controller.mqtt is not None
        bridge = controller.mqtt
        watch = operator(broker)
        try:
            await until(lambda: bool(watch.on(f"{PREFIX}telemetry/0")), timeout=15)
            # Retained status and birth, as a fresh plain client reads them.
            online = await asyncio.to_thread(
                retained, broker.port, "viewer", PASSWORDS["viewer"], f"{PREFIX}online"
            )
            assert online is not None
            assert online.payload == b"online"
            seen = await asyncio.to_thread(
                retained, broker.port, "viewer", PASSWORDS["viewer"], f"{PREFIX}status"
            )
            assert seen is not None
            status = seen.json()
            assert status["site"] == "e2e"
            assert status["version"]
            assert sum(status["hashpivot_devices"].values()) == 32
            assert status["hashpivot_site_metered_power_watts"] > 0
            assert status["hashpivot_control_paused"] is False
            telemetry = watch.on(f"{PREFIX}telemetry/0")[-1].json()
            assert len(telemetry["rows"]) == 32
            power = telemetry["columns"].index("hashpivot_device_power_watts")
            assert all(row[power] > 0 for row in telemetry["rows"])
            await until(lambda: bool(watch.on(f"{PREFIX}plan")), timeout=10)
            assert "reasons" in watch.on(f"{PREFIX}plan")[-1].json()
            signals = watch.on(f"{PREFIX}signals")[-1].json()
            assert set(signals["ages_seconds"]) >= {"power_price", "hashprice"}
            discovery = watch.under("homeassistant/sensor/hashpivot_e2e_metered_power/config")
            assert discovery
            assert discovery[-1].json()["state_topic"] == f"{PREFIX}status"

            # Every command: accepted, executed, answered once, journaled with its id.
            device = f"{site.prefix}.1"
            steps: list[tuple[str, dict[str, Any]]] = [
                ("prices", {"power_price_usd_per_mwh": 25.0, "source": "mqtt-test"}),
                ("pause", {"reason": "maintenance"}),
                ("resume", {}),
                ("override/set", {"device_id": device, "action": "exclude", "ttl_s": 600}),
                ("override/clear", {"device_id": device}),
                (
                    "event/create",
                    {
                        "kind": "instructed",
                        "level_mw": 1.0,
                        "within_s": 1.0,
                        "event_id": "mq-1",
                        "source": "mqtt",
                    },
                ),
                ("event/update", {"event_id": "mq-1", "level_mw": 0.9}),
            ]
            for index, (name, args) in enumerate(steps):
                reply = await command(watch, name, f"c-{index}", args)
                assert reply["ok"] is True, reply
                assert reply["command"] == name
            assert controller.state.price is not None
            assert controller.state.price.source == "mqtt-test"
            assert controller.state.events["mq-1"].level_mw == 0.9
            # The event's lifecycle: created, confirmed (the site is far under 0.9 MW),
            # met at its deadline; then cancelled: ended, with the compliance report.
            for phase in ("created", "confirmed", "met"):
                await until(lambda p=phase: bool(watch.on(f"{PREFIX}events/{p}")), timeout=10)
            reply = await command(watch, "event/cancel", "c-cancel", {"event_id": "mq-1"})
            assert reply["ok"] is True
            await until(lambda: bool(watch.on(f"{PREFIX}events/ended")), timeout=10)
            ended = watch.on(f"{PREFIX}events/ended")[0].json()
            assert ended["event"]["event_id"] == "mq-1"
            assert "report" in ended
            assert not watch.on(f"{PREFIX}events/missed")

            # A duplicate id is not carried out again and gets no second reply.
            watch.publish(f"{PREFIX}cmd/pause", signed("pause", "c-1", {"reason": "again"}))
            await until(lambda: bridge.executor.results["duplicate"] == 1)
            assert controller.state.paused is False
            assert len(watch.on(f"{PREFIX}reply/c-1")) == 1

            rows = await controller.journal.entries(
                ["control.", "override.", "event.", "economics."]
            )
            by_actor = {e.actor for e in rows if e.actor.startswith("mqtt:")}
            assert by_actor == {f"mqtt:c-{i}" for i in range(len(steps))} | {"mqtt:c-cancel"}
            assert sum(1 for e in rows if e.actor == "mqtt:c-1") == 1
            # What a restarted daemon reads back so a redelivery is still a duplicate.
            executed = await bridge.view.executed_commands(ACTOR_PREFIX)
            assert set(executed) == {f"c-{i}" for i in range(len(steps))} | {"c-cancel"}

            # Malformed and unauthorised: refused, answered, counted, never executed.
            refused = {
                "bad-json": (b"{not json", "malformed"),
                "bad-args": (signed("pause", "bad-args", {"reason": 7}), "malformed"),
                "bad-sig": (signed("pause", "bad-sig", {}, secret="wrong"), "unauthorised"),
                "stale": (signed("pause", "stale", {}, ts=time.time() - 3600), "unauthorised"),
                "no-sig": (json.dumps({"id": "no-sig", "args": {}}).encode(), "unauthorised"),
            }
            for payload, _ in refused.values():
                watch.publish(f"{PREFIX}cmd/pause", payload)
            await until(lambda: len(watch.on(f"{PREFIX}reply/_unreadable")) == 1)
            for command_id, (_, kind) in refused.items():
                if command_id == "bad-json":
                    continue
                topic = f"{PREFIX}reply/{command_id}"
                await until(lambda t=topic: bool(watch.on(t)))
                answer = watch.on(topic)[0].json()
                assert answer["ok"] is False
                assert answer["error"]["type"] == kind
            assert bridge.executor.results["malformed"] == 2
            assert bridge.executor.results["unauthorised"] == 3
            # The broker's ACL stops a read-only user before the controller sees anything.
            viewer = Watcher(broker.port, "viewer", PASSWORDS["viewer"], subscribe="nothing")
            try:
                viewer.publish(f"{PREFIX}cmd/pause", signed("pause", "from-viewer", {}))
            finally:
                viewer.close()
            await asyncio.sleep(0.5)
            assert not watch.on(f"{PREFIX}reply/from-viewer")
            assert controller.state.paused is False
            metrics = controller.metrics.registry.get_sample_value
            assert (
                metrics("hashpivot_mqtt_commands_total", {"site": "e2e", "result": "accepted"})
                == len(steps) + 1
            )
            assert metrics("hashpivot_mqtt_connected", {"site": "e2e"}) == 1.0
        finally:
            watch.close()


@pytest.mark.slow
async def test_survives_a_broker_restart_losing_only_counted_telemetry(
    running_site: SiteFactory, tmp_path: Path
) -> None:
    broker = Broker(tmp_path / "persistent", persistence=True)
    broker.start()
    # Status only on a change or a reconnect, so a fresh one proves the republish.
    config = mqtt_config(broker, queue_size=3, status_interval_s=600)
    try:
        async with running_site("127.0.181", mqtt=config) as site:
            controller, bridge = site.controller, site.controller.mqtt
            assert bridge is not None
            watch = Watcher(
                broker.tls_port,
                "operator",
                PASSWORDS["operator"],
                ca=broker.ca,
                client_id="restart-watch",
                persistent=True,
            )
            try:
                await until(lambda: bridge.connected, timeout=10)
                await until(lambda: bool(watch.on(f"{PREFIX}telemetry/0")))
                await broker.astop()
                await until(lambda: not bridge.connected, timeout=10)
                assert controller.loop.view is not None
                down_at, seq = time.time(), controller.loop.view.seq
                # The API answers at once, and takes an event whose lifecycle must not be lost.
                started = time.monotonic()
                await site.api.call("GET", "/status")
                event = {"kind": "instructed", "level_mw": 1.0, "event_id": "while-down"}
                await site.api.call("POST", "/events", event, status=201)
                assert time.monotonic() - started < 1.0
                await asyncio.sleep(5.0)
                # The loop kept planning (every 2 s, and at the event) with the broker gone.
                assert controller.loop.view.seq >= seq + 2
                dropped = bridge.outbox.dropped_telemetry
                assert dropped > 0
                await broker.astart()
                await until(lambda: bridge.connected, timeout=10)
                assert bridge.connects == 2
                await until(lambda: bool(watch.on(f"{PREFIX}events/created")), timeout=10)
                created = watch.on(f"{PREFIX}events/created")
                assert [m.json()["event"]["event_id"] for m in created] == ["while-down"]
                status = await asyncio.to_thread(
                    retained, broker.port, "viewer", PASSWORDS["viewer"], f"{PREFIX}status"
                )
                assert status is not None
                assert status.json()["at"] > down_at
                assert status.json()["hashpivot_events_active"] == ["while-down"]
                # Commands work again after the restart.
                reply = await command(watch, "pause", "after-restart", {"reason": "t"})
                assert reply["ok"] is True
                assert controller.state.paused is True
                metrics = controller.metrics.registry.get_sample_value
                counted = metrics(
                    "hashpivot_mqtt_dropped_messages_total", {"site": "e2e", "lane": "telemetry"}
                )
                assert counted is not None
                assert counted >= dropped
            finally:
                watch.close()
    finally:
        broker.stop()
