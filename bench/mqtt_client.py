"""The operator's side of the MQTT benchmark, in its own process.

``python -m bench.mqtt_client PORT PREFIX SECRET COUNT INTERVAL_S`` sends COUNT signed
commands (pause and resume in turn), one every INTERVAL_S, each waiting for its reply,
and prints one JSON line: the round trips in milliseconds and how many went unanswered.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import sys
import threading
import time
from typing import Any

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion


def signed(name: str, command_id: str, args: dict[str, Any], secret: str) -> bytes:
    ts = time.time()
    canonical = json.dumps(args, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    text = f"{name}\n{command_id}\n{ts!r}\n{canonical}".encode()
    sig = hmac.new(secret.encode(), text, hashlib.sha256).hexdigest()
    return json.dumps({"id": command_id, "ts": ts, "args": args, "sig": sig}).encode()


def main() -> int:
    port, prefix, secret = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    count, interval = int(sys.argv[4]), float(sys.argv[5])
    replies: dict[str, float] = {}
    arrived = threading.Condition()
    subscribed = threading.Event()

    def on_message(_: paho.Client, __: Any, message: paho.MQTTMessage) -> None:
        with arrived:
            replies[message.topic.rsplit("/", 1)[1]] = time.perf_counter()
            arrived.notify_all()

    client = paho.Client(CallbackAPIVersion.VERSION2)
    client.username_pw_set("operator", "bench")
    client.on_message = on_message
    client.on_connect = lambda c, *_: c.subscribe(f"{prefix}reply/#", qos=1)
    client.on_subscribe = lambda *_: subscribed.set()
    client.connect("127.0.0.1", port)
    client.loop_start()
    subscribed.wait(10)
    rtts, lost = [], 0
    for i in range(count):
        name = "pause" if i % 2 == 0 else "resume"
        command_id = f"bench-{time.time_ns()}-{i}"
        sent = time.perf_counter()
        client.publish(f"{prefix}cmd/{name}", signed(name, command_id, {}, secret), qos=1)
        with arrived:
            arrived.wait_for(lambda c=command_id: c in replies, timeout=10)  # type: ignore[misc]
        if command_id in replies:
            rtts.append((replies[command_id] - sent) * 1e3)
        else:
            lost += 1
        time.sleep(interval)
    client.disconnect()
    client.loop_stop()
    print(json.dumps({"rtt_ms": rtts, "lost": lost}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
