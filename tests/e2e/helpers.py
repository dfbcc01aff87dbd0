"""Shared pieces of the end-to-end tests: a simulated site, a meter over it, an API client."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import aiohttp

from drivers.meter import MeterReading
from simulators import Fleet

TOKEN = "e2e-token"
FAST_TIMINGS = {"stop_s": 5, "boot_s": 20, "ramp_s": 40, "reboot_s": 10}


class FleetMeter:
    """A site meter reading the simulators' ground truth (stands in for the Modbus meter)."""

    def __init__(self, sim: Fleet, base_load_w: float = 0.0) -> None:
        self.sim = sim
        self.base_load_w = base_load_w
        self.down = False
        self.reads = 0

    def watts(self) -> float:
        return self.base_load_w + sum(d.snapshot().power_w for d in self.sim.devices)

    async def read(self) -> MeterReading:
        self.reads += 1
        if self.down:
            raise ConnectionRefusedError("meter unplugged")
        return MeterReading(time.time(), self.watts(), (), None)

    async def close(self) -> None:
        return None


def controller_config(
    port: int, groups: list[dict[str, Any]], journal: str | None, **overrides: Any
) -> dict[str, Any]:
    config: dict[str, Any] = {
        "site": "e2e",
        "listen": f"127.0.0.1:{port}",
        "poll_interval_s": 0.3,
        "poll_timeout_s": 1.0,
        "unreachable_after": 2,
        "devices": groups,
        "control": {
            "confirm_after_s": 1.0,
            "reconfirm_delays_s": [0.3],
            "retry_delays_s": [0.2, 0.4],
            "command_timeout_s": 2.0,
            "stuck_hold_s": 600,
        },
        "policy": {
            "curtail_after_windows": 1,
            "resume_after_windows": 1,
            "price_window_s": 0,  # each price a window: the tests change it seconds apart
            "min_on_dwell_s": 0,
            "min_off_dwell_s": 0,
            "max_cycles_per_day": 100,
            "wake_stagger_s": 0.2,
            "plan_interval_s": 2.0,
            "max_device_age_s": 30,
        },
        "grid": {"interconnect_cap_mw": 1.0},
        "economics": {"power_price_usd_per_mwh": 20.0, "hashprice_usd_per_ph_day": 45.0},
        "journal": {"path": journal},
        "api": {"token": TOKEN},
    }
    return with_overrides(config, overrides)


def with_overrides(config: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    """``config`` with each top-level key of ``overrides`` set; a section given as a mapping
    is merged into the section there, key by key."""
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(config.get(key), dict):
            config[key] = {**config[key], **value}
        else:
            config[key] = value
    return config


# The controller on the site's simulated clock: every figure is simulated seconds, as a
# real site would have them, scaled only by the simulator's speed. A sweep of the site
# costs real time (sockets), so the poll interval leaves room for a slow one.
SIM_TIME_CONFIG: dict[str, Any] = {
    "poll_interval_s": 15.0,
    "control": {
        # A Whatsminer's reported hashrate is a running average that takes tens of
        # seconds to fall after it stops; and a real timeout lasts 50 times longer in
        # simulated seconds (a stalled unit's 1 s poll timeout holds a sweep for 50 s), so
        # the windows leave room for a reading after such a sweep.
        "confirm_after_s": 60.0,
        "reconfirm_delays_s": [30.0, 120.0],
        "retry_delays_s": [3.0, 6.0],
        "stuck_hold_s": 3600,
    },
    # A read that times out costs real seconds (the poll timeout), many simulated ones: a
    # unit that stalls must not age out of what the plan knows within the test.
    "policy": {"wake_stagger_s": 1.0, "plan_interval_s": 30.0, "max_device_age_s": 900},
    "meter": {"interval_s": 2.5},
}


class Api:
    def __init__(self, session: aiohttp.ClientSession, port: int, token: str | None = TOKEN):
        self.session = session
        self.base = f"http://127.0.0.1:{port}/api/v1"
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}

    async def call(self, method: str, path: str, body: Any = None, status: int = 200) -> Any:
        async with self.session.request(
            method,
            self.base + path,
            json=body,
            headers=self.headers,
            timeout=aiohttp.ClientTimeout(total=10),
        ) as response:
            data = await response.json(content_type=None)
            assert response.status == status, (response.status, data)
            return data


async def until(predicate: Callable[[], bool], timeout: float = 15.0, step: float = 0.05) -> None:
    async with asyncio.timeout(timeout):
        while not predicate():
            await asyncio.sleep(step)


async def api_up(api: Api, timeout: float = 20.0) -> None:
    """Until a daemon started as a subprocess answers its API."""
    async with asyncio.timeout(timeout):
        while True:
            try:
                async with api.session.get(f"{api.base}/plan") as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.1)


def running(sim: Fleet, addresses: list[str] | None = None) -> int:
    devices = sim.devices if addresses is None else [sim.device(a) for a in addresses]
    return sum(
        1
        for d in devices
        if d.snapshot().nameplate_hs and d.snapshot().hashrate_hs > 0.1 * d.snapshot().nameplate_hs
    )


GPU_TOKEN = "hashpivot-sim"  # the simulated node agents' token
# Two 8-GPU H200 nodes after the miners: one under contract, one running spot work.
AI_CLASSES = {61: "contracted", 62: "interruptible"}


def mixed_site(prefix: str, faults: dict[str, list[str]] | None = None) -> dict[str, Any]:
    """30 miners of every make on ``prefix``.x: three Antminer models, Whatsminer v2 and
    v3, Auradine; and two H200 GPU nodes on .61 (contracted) and .62 (interruptible).
    ``faults`` maps an address to the faults its unit starts with."""
    faults = faults or {}
    groups = [
        ("antminer", "S19j Pro", 8, 1, {}),
        ("antminer", "S19 XP", 6, 11, {}),
        ("antminer", "S21", 4, 21, {}),
        ("whatsminer", "M30S++", 4, 31, {"api_writes": True}),
        ("whatsminer", "M60S", 4, 41, {"api_writes": True, "api": "v3"}),
        ("auradine", "AT1500", 4, 51, {}),
    ]
    entries = []
    for make, model, count, first, extra in groups:
        for i in range(count):
            address = f"{prefix}.{first + i}"
            entries.append(
                {
                    "make": make,
                    "model": model,
                    "count": 1,
                    "start": address,
                    "timings": FAST_TIMINGS,
                    "faults": faults.get(address, []),
                    **extra,
                }
            )
    for last in AI_CLASSES:
        entries.append(
            {
                "make": "gpu",
                "model": "H200",
                "count": 1,
                "start": f"{prefix}.{last}",
                "settle_s": 0.1,
                "faults": faults.get(f"{prefix}.{last}", []),
            }
        )
    return {"site": "e2e", "devices": entries}


def device_groups(site: dict[str, Any]) -> list[dict[str, Any]]:
    """Controller device groups for a site; Whatsminer API v3 units use its default "super",
    GPU nodes the agent token and the AI class ``AI_CLASSES`` gives their address."""
    groups: dict[tuple[str, str], list[str]] = {}
    for entry in site["devices"]:
        kind = entry.get("api", "")
        if entry["make"] == "gpu":
            kind = AI_CLASSES[int(entry["start"].rsplit(".", 1)[1])]
        groups.setdefault((entry["make"], kind), []).append(entry["start"])
    out = []
    for (make, kind), hosts in groups.items():
        group: dict[str, Any] = {"make": make, "addresses": hosts}
        if kind == "v3":
            group["credentials"] = {"password": "super"}
        if make == "gpu":
            group["credentials"] = {"password": GPU_TOKEN}
            group["ai_class"] = kind
        out.append(group)
    return out


def gpu_limits(sim: Fleet, address: str) -> set[float]:
    """The power limits the simulated node enforces, per GPU, as a set."""
    return {g.limit_w for g in sim.device(address).gpus}  # type: ignore[attr-defined]
