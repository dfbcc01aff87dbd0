"""The fault tests' pieces: the small example site moved onto one test prefix, a daemon
run as a process (so it can be killed), and the truth read from the simulator's control
plane: every device's power plus the site's base load, sampled as the tests run."""

from __future__ import annotations

import asyncio
import contextlib
import json
import sqlite3
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import yaml

from simulators import Fleet, load_site_dict
from simulators.control import ControlPlane
from tests.conftest import free_port, hashpivot_run
from tests.e2e.helpers import TOKEN, Api, api_up, with_overrides

EXAMPLES = Path(__file__).resolve().parents[2] / "deploy" / "examples"
LEVEL_W = 85_000.0  # the level on the small example site
TOLERANCE_W = 500.0
# Fast enough for a test, as the example otherwise: confirmation 30 s then 15 and 60 s
# re-sends, plans every 300 s, 15 min dwell. Only polling and the meter are quicker.
FAST = {
    "poll_interval_s": 0.5,
    "poll_timeout_s": 2.0,
    "unreachable_after": 2,
}


def _moved(address: str, prefix: str) -> str:
    """127.0.{1,2,3,4}.n and the meter's 127.0.100.1, all on one prefix."""
    _, _, third, last = address.split(".")
    offset = {"1": 0, "2": 100, "3": 170, "4": 200}.get(third)
    return f"{prefix}.{250 if offset is None else offset + int(last)}"


def small_site(prefix: str) -> tuple[dict[str, Any], float]:
    """The example small site on ``prefix``, and its base load (watts)."""
    site = yaml.safe_load((EXAMPLES / "site-small.yaml").read_text())
    base = 0.0
    for entry in site["devices"]:
        key = "address" if "address" in entry else "start"
        entry[key] = _moved(entry[key], prefix)
        if entry["make"] == "meter":
            base = float(entry["base_load_w"])
            entry["port"] = free_port(entry["address"])
    return site, base


def small_config(
    prefix: str, port: int, meter_port: int, journal: Path, **overrides: Any
) -> dict[str, Any]:
    """The example controller config for :func:`small_site` on ``prefix``."""
    config = yaml.safe_load((EXAMPLES / "hashpivot-small.yaml").read_text())
    for group in config["devices"]:
        for key in ("start", "address"):
            if key in group:
                group[key] = _moved(group[key], prefix)
        if "addresses" in group:
            group["addresses"] = [_moved(a, prefix) for a in group["addresses"]]
    config.update(FAST)
    config["listen"] = f"127.0.0.1:{port}"
    config["meter"] = {
        "host": f"{prefix}.250",
        "port": meter_port,
        "interval_s": 0.5,
        "settle_s": 2.0,
    }
    config["journal"] = {"path": str(journal)}
    config["api"] = {"token": TOKEN}
    return with_overrides(config, overrides)


@dataclass
class Truth:
    """The site as the simulator has it, sampled every ``every_s`` from its control plane."""

    session: aiohttp.ClientSession
    url: str
    base_load_w: float
    every_s: float = 0.25
    samples: list[tuple[float, float]] = field(default_factory=list)

    async def read(self) -> float:
        async with self.session.get(self.url) as response:
            devices = (await response.json())["devices"]
        return self.base_load_w + sum(float(d["power_w"]) for d in devices)

    async def run(self) -> None:
        while True:
            watts = await self.read()
            self.samples.append((time.time(), watts))
            await asyncio.sleep(self.every_s)

    def at(self, when: float) -> float:
        """The last sample at or before ``when``."""
        before = [w for t, w in self.samples if t <= when]
        return before[-1] if before else self.samples[0][1]

    def met_at(self, level_w: float, since: float, hold_s: float) -> float | None:
        """When the site went to the level and stayed there for ``hold_s`` (or to the end)."""
        start = None
        for t, w in self.samples:
            if t < since:
                continue
            under = w <= level_w + TOLERANCE_W
            start = (start if start is not None else t) if under else None
        if start is None or self.samples[-1][0] - start < hold_s:
            return None
        return start


@dataclass
class Sim:
    fleet: Fleet
    truth: Truth
    plane: ControlPlane


@asynccontextmanager
async def simulated(
    site: dict[str, Any], base_load_w: float, speed: float = 50
) -> AsyncIterator[Sim]:
    async with Fleet(load_site_dict(site), speed=speed, listen="exact") as fleet:
        plane = ControlPlane(fleet, "127.0.0.1", free_port())
        await plane.start()
        async with aiohttp.ClientSession() as session:
            truth = Truth(session, f"http://127.0.0.1:{plane.port}/devices", base_load_w)
            task = asyncio.create_task(truth.run())
            try:
                yield Sim(fleet, truth, plane)
            finally:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
                await plane.stop()


class Daemon:
    """``hashpivot run`` as a process: started, killed with SIGKILL, started again."""

    def __init__(self, config: dict[str, Any], directory: Path) -> None:
        self.path = directory / "hashpivot.yaml"
        self.path.write_text(yaml.safe_dump(config))
        self.journal = Path(config["journal"]["path"])
        self.port = int(config["listen"].rsplit(":", 1)[1])
        self.process: asyncio.subprocess.Process | None = None
        self.log = directory / "daemon.log"

    async def start(self, api: Api) -> None:
        with self.log.open("a") as log:
            self.process = await hashpivot_run(
                self.path, "--log-level", "info", stdout=log, stderr=log
            )
        await api_up(api)

    async def kill(self) -> None:
        assert self.process is not None
        self.process.kill()
        await self.process.wait()

    async def stop(self) -> None:
        if self.process is not None and self.process.returncode is None:
            self.process.terminate()
            await asyncio.wait_for(self.process.wait(), 20)

    def rows(self, *kinds: str) -> list[dict[str, Any]]:
        try:
            conn = sqlite3.connect(self.journal)
            try:
                rows = conn.execute(
                    "SELECT at, kind, subject, data, run FROM journal ORDER BY seq"
                ).fetchall()
            finally:
                conn.close()
        except sqlite3.Error:
            return []
        return [
            {"at": r[0], "kind": r[1], "subject": r[2], "data": json.loads(r[3]), "run": r[4]}
            for r in rows
            if not kinds or r[1] in kinds
        ]


def wakes_of_shed_devices(rows: list[dict[str, Any]], since: float) -> list[str]:
    """Devices sent a wake after a sleep was sent to them, both since ``since``."""
    slept: set[str] = set()
    woken = []
    for row in rows:
        if row["kind"] != "command.sent" or row["at"] < since:
            continue
        command = row["data"]["command"]
        if command == "sleep":
            slept.add(row["subject"])
        elif command == "wake" and row["subject"] in slept:
            woken.append(row["subject"])
    return woken


def duplicate_commands(rows: list[dict[str, Any]], since: float, exempt: set[str]) -> list[str]:
    """A plan's sleep or wake sent to a device that had already applied that very command
    (and nothing since). ``exempt``: units that did not act (re-sent by design)."""
    applied: dict[str, str] = {}
    dupes = []
    for row in rows:
        if row["at"] < since or row["subject"] in exempt:
            continue
        data = row["data"]
        command = data.get("command")
        if command not in {"sleep", "wake"}:
            continue
        if row["kind"] == "command.result" and data["result"] == "applied":
            applied[row["subject"]] = command
        elif (
            row["kind"] == "command.sent"
            and data.get("origin") == "plan"
            and applied.get(row["subject"]) == command
        ):
            dupes.append(f"{row['subject']} {command} (run {row['run']})")
    return dupes
