"""The site on the MQTT bus: publishing what the read model shows, taking commands.

One supervisor task holds the connection: connect, announce ``online`` (retained,
with ``offline`` as the last will), subscribe to the commands, send the retained
documents again, then send and receive until the connection fails; then wait with
exponential backoff and jitter and start over. A ticker task turns the read model
into messages. Neither the control loop nor the API ever waits on the broker: they
reach the bridge only through :meth:`MqttBridge.on_sweep` and the outbox, which
never block.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
import time
from typing import Any

import aiomqtt

from controller.clock import Clock, wait_any, yield_now
from controller.config.mqtt import MqttConfig
from controller.errors import ControllerError
from controller.integrations.mqtt.commands import CommandRefused, parse_command
from controller.integrations.mqtt.discovery import discovery_messages
from controller.integrations.mqtt.executor import ACTOR_PREFIX, CommandExecutor, error_reply
from controller.integrations.mqtt.lifecycle import LifecycleWatch
from controller.integrations.mqtt.outbox import Lane, Message, Outbox
from controller.integrations.mqtt.payloads import (
    event_payload,
    plan_payload,
    signals_payload,
    status_payload,
    telemetry_payloads,
    version,
)
from controller.integrations.mqtt.topics import EventPhase, Retained, Topics
from controller.service.control import ControlService
from controller.service.read_model import ReadModel

__all__ = ["MqttBridge"]

log = logging.getLogger(__name__)

_TICK_S = 1.0  # how often the lifecycle and plan are looked at
_BACKLOG = 64  # QoS 0 packets the client may hold unsent before telemetry waits in the outbox


class MqttBridge:
    def __init__(
        self,
        config: MqttConfig,
        view: ReadModel,
        service: ControlService,
        *,
        clock: Clock,
        rng: random.Random | None = None,
    ) -> None:
        self.config = config
        self.view = view
        self.topics = Topics(config.topic_prefix(view.site))
        self.outbox = Outbox(config.queue_size)
        self.executor = CommandExecutor(service, remember=config.commands.remember)
        self.lifecycle = LifecycleWatch(view.event_confirmed)
        self.connected = False
        self.connects = 0
        self.published = 0
        self._clock = clock
        self._rng = rng or random.Random()
        self._secret = config.commands.resolve("mqtt.commands")
        self._password = config.resolve_password()
        self._version = version()
        self._last_telemetry = -float("inf")
        self._last_status = -float("inf")
        self._plan_seq: int | None = None
        self._down_since: float | None = None
        self._status_due = False
        self._building: asyncio.Task[None] | None = None
        self.telemetry_cpu_s = 0.0  # CPU spent building telemetry (the benchmark reads it)
        self._wake = asyncio.Event()  # a tick before its time (after a command)

    # ---- producers: never block, never touch the network --------------------------------

    def on_sweep(self) -> None:
        """After each poll sweep: the fleet's telemetry, at most once per interval."""
        if not self.config.telemetry:
            return
        now = self._clock.time()
        if now - self._last_telemetry < self.config.telemetry_interval_s:
            return
        if self._building is not None and not self._building.done():
            return  # the last batch is still being built (a very short interval)
        self._last_telemetry = now
        self._building = asyncio.create_task(self._build_telemetry(now), name="mqtt-telemetry")

    async def _build_telemetry(self, now: float) -> None:
        """One message at a time, yielding between them: 10,000 devices never hold the
        event loop (commands, the API, the control loop) for the whole batch at once."""
        payloads = telemetry_payloads(
            self.view.site, self.view.telemetry(), now, self.config.telemetry_chunk
        )
        part = 0
        while True:
            started = time.thread_time()
            payload = next(payloads, None)
            self.telemetry_cpu_s += time.thread_time() - started
            if payload is None:
                return
            self.outbox.put(
                Message(
                    topic=self.topics.telemetry(part),
                    payload=payload,
                    qos=self.config.telemetry_qos,
                    retain=False,
                    lane=Lane.TELEMETRY,
                )
            )
            part += 1
            await yield_now()

    def publish_status(self) -> None:
        now = self._clock.time()
        self._last_status = now
        site = self.view.site
        status = status_payload(site, self.view.site_status(now), now, self._version)
        self._state(self.topics.of(Retained.STATUS), status)
        self._state(
            self.topics.of(Retained.SIGNALS), signals_payload(site, self.view.signal_ages(now), now)
        )

    def _state(self, topic: str, payload: bytes) -> None:
        self.outbox.put(Message(topic=topic, payload=payload, qos=1, retain=True, lane=Lane.STATE))

    def _reliable(self, topic: str, payload: bytes) -> None:
        self.outbox.put(
            Message(topic=topic, payload=payload, qos=1, retain=False, lane=Lane.RELIABLE)
        )

    async def tick(self) -> None:
        """Event transitions, a new plan, and the status when due."""
        now = self._clock.time()
        changed = False
        for transition in self.lifecycle.observe(self.view.events(), now):
            report = None
            if transition.phase is EventPhase.ENDED:
                report = await self._report(transition.event)
            payload = event_payload(self.view.site, transition.phase, transition.event, now, report)
            self._reliable(self.topics.event(transition.phase), payload)
            changed = True
        plan = self.view.plan_summary()
        if plan is not None and plan.seq != self._plan_seq:
            self._plan_seq = plan.seq
            self._state(self.topics.of(Retained.PLAN), plan_payload(self.view.site, plan))
        due, self._status_due = self._status_due, False
        if changed or due or now - self._last_status >= self.config.status_interval_s:
            self.publish_status()

    async def _report(self, event: Any) -> dict[str, Any] | None:
        try:
            return dict(await self.view.report(event))
        except (ControllerError, LookupError, TypeError, ValueError) as exc:
            # The report is extra: the lifecycle message goes out without it.
            log.warning("compliance report for event %s failed: %s", event.event_id, exc)
            return None

    # ---- the tasks ----------------------------------------------------------------------

    async def run(self, stop: asyncio.Event) -> None:
        self.lifecycle.seed(self.view.events(), self._clock.time())
        try:
            # A command redelivered after a restart is still a duplicate.
            self.executor.remember(await self.view.executed_commands(ACTOR_PREFIX))
        except ControllerError as exc:
            log.warning("MQTT: cannot read past command ids from the journal: %s", exc)
        if self.config.homeassistant.enabled:
            for topic, payload in discovery_messages(
                self.config.homeassistant.prefix, self.topics, self.view.site, self._version
            ):
                self._state(topic, payload)
        ticker = asyncio.create_task(self._ticker(stop), name="mqtt-ticker")
        try:
            await self._connection(stop)
        finally:
            for task in (ticker, self._building):
                if task is not None:
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await task

    async def _ticker(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            self._wake.clear()
            await self.tick()
            await wait_any(self._clock, _TICK_S, self._wake)

    async def _connection(self, stop: asyncio.Event) -> None:
        attempt = 0
        while not stop.is_set():
            try:
                async with self._client() as client:
                    attempt = 0
                    await self._connected(client)
                    await self._serve(client, stop)
                    await self._goodbye(client)
            except aiomqtt.MqttError as exc:
                self._down(exc)
            if stop.is_set():
                break
            delay = min(self.config.reconnect_max_s, self.config.reconnect_min_s * 2**attempt)
            attempt = min(attempt + 1, 30)
            # Equal jitter: never less than half the delay, so a fleet of controllers
            # restarting with one broker spreads out instead of reconnecting in step.
            pause = delay / 2 + self._rng.uniform(0, delay / 2)
            # Real time, like every wait on the network: the broker does not come back sooner.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), pause)

    def _client(self) -> aiomqtt.Client:
        config = self.config
        tls = None
        if config.tls is not None:
            tls = aiomqtt.TLSParameters(
                ca_certs=None if config.tls.ca_file is None else str(config.tls.ca_file),
                certfile=None if config.tls.cert_file is None else str(config.tls.cert_file),
                keyfile=None if config.tls.key_file is None else str(config.tls.key_file),
            )
        return aiomqtt.Client(
            config.host,
            config.port,
            username=config.username,
            password=self._password,
            identifier=config.client_id or f"hashpivot-{self.view.site}",
            will=aiomqtt.Will(self.topics.of(Retained.ONLINE), b"offline", qos=1, retain=True),
            keepalive=config.keepalive_s,
            timeout=config.timeout_s,
            tls_params=tls,
            tls_insecure=None if config.tls is None else config.tls.insecure,
            max_queued_incoming_messages=1000,
            logger=logging.getLogger(f"{__name__}.client"),
        )

    async def _connected(self, client: aiomqtt.Client) -> None:
        await client.publish(self.topics.of(Retained.ONLINE), b"online", qos=1, retain=True)
        await client.subscribe(self.topics.commands, qos=1)
        self.connected = True
        self.connects += 1
        if self._down_since is not None:
            log.info(
                "MQTT broker %s:%d back after %.1f s",
                self.config.host,
                self.config.port,
                self._clock.time() - self._down_since,
            )
        else:
            log.info(
                "MQTT: connected to %s:%d as %s",
                self.config.host,
                self.config.port,
                self.topics.prefix,
            )
        self._down_since = None
        self.outbox.resend_state()
        self.publish_status()

    def _down(self, exc: aiomqtt.MqttError) -> None:
        self.connected = False
        if self._down_since is None:  # a transition, not every failed attempt
            self._down_since = self._clock.time()
            log.warning(
                "MQTT broker %s:%d unavailable: %s; retrying with backoff",
                self.config.host,
                self.config.port,
                exc,
            )

    async def _serve(self, client: aiomqtt.Client, stop: asyncio.Event) -> None:
        tasks = [
            asyncio.create_task(self._send(client), name="mqtt-send"),
            asyncio.create_task(self._receive(client), name="mqtt-receive"),
            asyncio.create_task(stop.wait(), name="mqtt-stop"),
        ]
        try:
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        for task in done:
            if not task.cancelled() and task.exception() is not None:
                raise task.exception()  # type: ignore[misc]
        await self._flush(client)

    async def _flush(self, client: aiomqtt.Client) -> None:
        """At a clean stop: what is queued, except telemetry, within the timeout."""
        self.outbox.drop_telemetry()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(self.config.timeout_s):
                while (message := self.outbox.take()) is not None:
                    await client.publish(
                        message.topic, message.payload, qos=message.qos, retain=message.retain
                    )

    async def _goodbye(self, client: aiomqtt.Client) -> None:
        # A clean disconnect does not fire the will: say offline ourselves.
        await client.publish(self.topics.of(Retained.ONLINE), b"offline", qos=1, retain=True)
        self.connected = False

    async def _send(self, client: aiomqtt.Client) -> None:
        paho = client._client  # its unsent-packet backlog is the backpressure
        while True:
            message = self.outbox.take()
            if message is None:
                await self.outbox.wait()
                continue
            if message.qos == 0 and not await _room(paho, self.config.timeout_s):
                self.outbox.count_dropped(message)  # the broker takes nothing: telemetry goes
                continue
            try:
                await client.publish(
                    message.topic, message.payload, qos=message.qos, retain=message.retain
                )
            except aiomqtt.MqttError:
                self.outbox.put_back(message)
                raise
            self.published += 1

    async def _receive(self, client: aiomqtt.Client) -> None:
        async for message in client.messages:
            payload = message.payload
            if not isinstance(payload, bytes | bytearray):
                payload = b"" if payload is None else str(payload).encode()
            await self.handle_command(str(message.topic), bytes(payload))

    async def handle_command(self, topic: str, payload: bytes) -> None:
        """Parse, authorise, execute once, answer once. The payload is never logged."""
        name = self.topics.command_name(topic)
        try:
            command = parse_command(
                name,
                payload,
                auth=self.config.commands.auth,
                secret=self._secret,
                now=self._clock.time(),
                max_skew_s=self.config.commands.max_skew_s,
            )
        except CommandRefused as refused:
            self.executor.count(refused.kind.value)
            log.warning(
                "MQTT command refused (%s, %d bytes on %r): %s",
                refused.kind.value,
                len(payload),
                topic[:200],
                refused.message,
            )
            self._reply(refused.command_id, error_reply(refused, name))
            return
        reply = await self.executor.execute(command)
        if reply is None:
            return  # a duplicate: answered the first time
        self._reply(command.command_id, reply)
        if reply["ok"]:
            # The status (a pass over the fleet) follows at the next tick, within a second,
            # so the reply is not kept waiting behind it.
            self._status_due = True
            self._wake.set()

    def _reply(self, command_id: str | None, reply: dict[str, Any]) -> None:
        topic = self.topics.reply(command_id or "_unreadable")
        self._reliable(topic, json.dumps(reply, separators=(",", ":"), default=str).encode())


async def _room(paho: object, timeout_s: float) -> bool:
    """Whether the client's unsent backlog fell under the bound within the timeout."""
    for _ in range(max(1, int(timeout_s / 0.01))):
        if len(getattr(paho, "_out_packet", ())) <= _BACKLOG:
            return True
        await asyncio.sleep(0.01)  # noqa: TID251 - waits on a socket backlog: real time
    return False
