"""MQTT benchmark: 10,000 simulated miners' telemetry through a real Mosquitto.

    python -m bench.mqtt --devices 10000

A simulator process serves the fleet; the controller runs here with MQTT on, publishing
every sweep's telemetry (``telemetry_interval_s: 0``) to a Mosquitto started for the run,
and polling back to back. The CPU the MQTT bridge adds is measured where it is spent:
building the telemetry (``MqttBridge.on_sweep``) and paho's publish, socket write and
read calls; the sweep's CPU is the whole process's between two sweeps. Meanwhile an
operator process sends signed commands and times each reply. Results go to
bench/results/mqtt.json and bench/results/mqtt.md.
"""

from __future__ import annotations

import asyncio
import getpass
import itertools
import json
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import paho.mqtt.client as paho

from bench import simulated
from bench.simulated import RESULTS
from bench.sweep import write_site
from controller.app import Controller
from controller.config.settings import parse_config

SECRET = "bench-secret"
PREFIX = "hashpivot/bench/"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_broker(directory: Path, port: int) -> subprocess.Popen[bytes]:
    binary = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
    passwd = directory / "passwd"
    for index, user in enumerate(("hashpivot", "operator")):
        flags = ["-c"] if index == 0 else []
        subprocess.run(["mosquitto_passwd", *flags, "-b", str(passwd), user, "bench"], check=True)
    config = directory / "mosquitto.conf"
    config.write_text(
        f"user {getpass.getuser()}\nallow_anonymous false\npassword_file {passwd}\n"
        f"persistence false\nlistener {port} 127.0.0.1\n"
    )
    process = subprocess.Popen([binary, "-c", str(config)], stderr=subprocess.DEVNULL)
    for _ in range(100):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return process
        except OSError:
            time.sleep(0.05)
    process.kill()
    raise SystemExit("mosquitto did not start")


class Meter:
    """CPU seconds (this thread) spent inside the wrapped callables."""

    def __init__(self) -> None:
        self.cpu_s = 0.0

    def wrap(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            start = time.thread_time()
            try:
                return fn(*args, **kwargs)
            finally:
                self.cpu_s += time.thread_time() - start

        return timed


def reference_ms() -> float:
    """A machine-speed reference: CPU ms for a fixed pure-Python loop."""
    start = time.process_time()
    sum(i * i for i in range(2_000_000))
    return (time.process_time() - start) * 1e3


async def _until(predicate: Callable[[], bool]) -> None:
    for _ in range(6000):  # ten minutes
        if predicate():
            return
        await asyncio.sleep(0.1)
    raise SystemExit("the controller did not get there in time")


async def run(
    devices: int, hosts: list[str], port: int, sweeps: int, concurrency: int
) -> dict[str, Any]:
    config = parse_config(
        {
            "site": "bench",
            "listen": f"127.0.0.1:{free_port()}",
            "poll_interval_s": 0.2,  # back to back: the fleet is always being polled
            "poll_timeout_s": 30,
            "concurrency": concurrency,
            "devices": [{"make": "antminer", "addresses": hosts}],
            "drivers": {"per_device_concurrency": 1},
            "control": {"dry_run": True},
            "mqtt": {
                "host": "127.0.0.1",
                "port": port,
                "username": "hashpivot",
                "password": "bench",
                "telemetry_interval_s": 0,
                "queue_size": 1000,
                "status_interval_s": 10,
                "commands": {"secret": SECRET},
            },
        }
    )
    meter = Meter()
    for name in ("publish", "loop_write", "loop_read"):
        setattr(paho.Client, name, meter.wrap(getattr(paho.Client, name)))
    marks: list[tuple[float, float, float]] = []  # (process CPU, bridge CPU, wall) per sweep
    async with Controller(config) as controller:
        bridge = controller.mqtt
        assert bridge is not None
        build = bridge.on_sweep
        bridge.on_sweep = meter.wrap(build)  # type: ignore[method-assign]
        sweep_done = asyncio.Event()
        inner = controller._on_sweep

        async def on_sweep() -> None:
            await inner()
            marks.append(
                (time.process_time(), meter.cpu_s + bridge.telemetry_cpu_s, time.monotonic())
            )
            sweep_done.set()

        controller.poller._on_sweep = on_sweep
        # Warm-up: two sweeps (the first builds every session), then measure.
        await _until(lambda: bridge.connected and len(marks) >= 2)
        commander = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bench.mqtt_client",
            str(port),
            PREFIX,
            SECRET,
            "60",
            "0.25",
            stdout=asyncio.subprocess.PIPE,
        )
        first = len(marks) - 1
        out, _ = await commander.communicate()
        await _until(lambda: len(marks) >= first + sweeps + 1)
        measured = marks[first : first + sweeps + 1]
        dropped = bridge.outbox.dropped_telemetry
        published = bridge.published
    cpu = [b[0] - a[0] for a, b in itertools.pairwise(measured)]
    pub = [b[1] - a[1] for a, b in itertools.pairwise(measured)]
    wall = [b[2] - a[2] for a, b in itertools.pairwise(measured)]
    commands = json.loads(out.decode().strip().splitlines()[-1])
    rtts = sorted(commands["rtt_ms"])
    p99 = rtts[min(len(rtts) - 1, round(0.99 * (len(rtts) - 1)))] if rtts else None
    sweep_ms = statistics.median(cpu) * 1e3
    publish_ms = statistics.median(pub) * 1e3
    return {
        "devices": devices,
        "concurrency": concurrency,
        "sweeps_measured": len(cpu),
        "sweep_wall_s": round(statistics.median(wall), 2),
        "sweep_cpu_ms": round(sweep_ms, 1),
        "publish_cpu_ms_per_sweep": round(publish_ms, 2),
        "publish_cpu_us_per_device": round(publish_ms * 1e3 / devices, 3),
        "publish_share_of_sweep": round(publish_ms / sweep_ms, 4),
        "command_roundtrip_ms_p50": None if not rtts else round(statistics.median(rtts), 1),
        "command_roundtrip_ms_p99": None if p99 is None else round(p99, 1),
        "commands": len(rtts),
        "commands_lost": commands["lost"],
        "telemetry_dropped": dropped,
        "messages_published": published,
        "reference_ms": round(reference_ms(), 1),
    }


def main() -> int:
    parser = simulated.fleet_parser(__doc__, devices=10_000, start="127.10.0.1")
    parser.add_argument("--sweeps", type=int, default=5, help="sweeps measured")
    parser.add_argument(
        "--concurrency",
        type=int,
        default=256,
        help="devices read at once (the config's concurrency; 256 is its default)",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        site = Path(tmp, "site.yaml")
        hosts = write_site(site, args.devices, args.start)
        port = free_port()
        broker = start_broker(Path(tmp), port)
        try:
            with simulated.simulator(site, ready_within_s=120):
                result = asyncio.run(run(args.devices, hosts, port, args.sweeps, args.concurrency))
        finally:
            broker.terminate()
            broker.wait(timeout=10)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "mqtt.json").write_text(json.dumps(result, indent=2) + "\n")
    share = result["publish_share_of_sweep"] * 100
    table = (
        f"### MQTT: telemetry of {result['devices']} simulated miners per sweep, "
        "through Mosquitto\n\n"
        f"Command: `python -m bench.mqtt --devices {result['devices']} "
        f"--concurrency {result['concurrency']}`\n\n"
        "| measure | value | target |\n|---|---|---|\n"
        f"| devices read at once (`concurrency`) | {result['concurrency']} | |\n"
        f"| sweep wall time (median) | {result['sweep_wall_s']} s | |\n"
        f"| sweep CPU, whole controller (median of {result['sweeps_measured']}) | "
        f"{result['sweep_cpu_ms']} ms | |\n"
        f"| MQTT publishing CPU per sweep | {result['publish_cpu_ms_per_sweep']} ms "
        f"({share:.1f}% of the sweep) | < 10% |\n"
        f"| MQTT publishing CPU per device | {result['publish_cpu_us_per_device']} µs | |\n"
        f"| command round trip p50 while polling | {result['command_roundtrip_ms_p50']} ms | |\n"
        f"| command round trip p99 while polling | {result['command_roundtrip_ms_p99']} ms "
        "| < 250 ms |\n"
        f"| commands answered / lost | {result['commands']} / {result['commands_lost']} | |\n"
        f"| telemetry messages dropped | {result['telemetry_dropped']} | |\n\n"
        f"Machine-speed reference: {result['reference_ms']} ms CPU for "
        "`sum(i * i for i in range(2_000_000))`.\n"
    )
    (RESULTS / "mqtt.md").write_text(table)
    print(table)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
