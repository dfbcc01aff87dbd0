"""A plain MQTT client (paho-mqtt, not hashpivot's code) that records what it reads."""

from __future__ import annotations

import json
import ssl
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion


@dataclass(frozen=True)
class Seen:
    topic: str
    payload: bytes
    retain: bool
    at: float

    def json(self) -> Any:
        return json.loads(self.payload)


class Watcher:
    def __init__(
        self,
        port: int,
        user: str,
        password: str,
        *,
        ca: Path | None = None,
        subscribe: str = "#",
        client_id: str | None = None,
        persistent: bool = False,
    ) -> None:
        self.messages: list[Seen] = []
        self._lock = threading.Lock()
        self._subscribed = threading.Event()
        # A persistent session (fixed id, clean_session off) has the broker keep what
        # arrives for it while it is away, even over a broker restart with persistence.
        self.client = paho.Client(
            CallbackAPIVersion.VERSION2, client_id=client_id or "", clean_session=not persistent
        )
        self.client.reconnect_delay_set(0.2, 1.0)
        self.client.username_pw_set(user, password)
        if ca is not None:
            self.client.tls_set(ca_certs=str(ca), cert_reqs=ssl.CERT_REQUIRED)
        self._filter = subscribe
        self.client.on_connect = self._on_connect
        self.client.on_message = self._on_message
        self.client.on_subscribe = lambda *_: self._subscribed.set()
        self.client.connect("127.0.0.1", port, keepalive=30)
        self.client.loop_start()
        assert self._subscribed.wait(10), "subscription not acknowledged"

    def _on_connect(self, client: paho.Client, *_: Any) -> None:
        client.subscribe(self._filter, qos=1)

    def _on_message(self, _: paho.Client, __: Any, message: paho.MQTTMessage) -> None:
        with self._lock:
            self.messages.append(
                Seen(message.topic, bytes(message.payload), bool(message.retain), time.time())
            )

    def on(self, topic: str) -> list[Seen]:
        with self._lock:
            return [m for m in self.messages if m.topic == topic]

    def under(self, prefix: str) -> list[Seen]:
        with self._lock:
            return [m for m in self.messages if m.topic.startswith(prefix)]

    def publish(self, topic: str, payload: bytes | str, qos: int = 1) -> None:
        info = self.client.publish(topic, payload, qos=qos)
        info.wait_for_publish(10)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def retained(port: int, user: str, password: str, topic: str, timeout: float = 5.0) -> Seen | None:
    """What a fresh client reads as retained on ``topic`` (None when nothing is)."""
    watcher = Watcher(port, user, password, subscribe=topic)
    try:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = [m for m in watcher.on(topic) if m.retain]
            if found:
                return found[-1]
            time.sleep(0.05)
        return None
    finally:
        watcher.close()
