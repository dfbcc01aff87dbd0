"""``kill -9`` of the daemon in the middle of an event: the restarted daemon reloads the
event from the journal, re-reads the fleet and converges within one cycle, sending no
duplicate or contradictory command. Antminers (slow set_miner_conf), and a site of every
miner make (Antminer, Whatsminer API v2 and v3, Auradine), each with a Modbus meter."""

from __future__ import annotations

import asyncio
import json
import signal
import sqlite3
from collections import Counter
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import yaml

from simulators import Fleet, load_site_dict
from simulators.meter import SimMeter
from tests.conftest import free_port, hashpivot_run
from tests.e2e.helpers import FAST_TIMINGS, TOKEN, Api, api_up, controller_config, until

PREFIX = "127.0.117"
COUNT = 12


async def _start(config: Path) -> asyncio.subprocess.Process:
    return await hashpivot_run(
        config,
        "--log-level",
        "warning",
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )


def _rows(path: Path) -> list[dict[str, Any]]:
    conn = sqlite3.connect(path)
    rows = conn.execute("SELECT at, kind, subject, data, run FROM journal ORDER BY seq").fetchall()
    conn.close()
    return [
        {"at": r[0], "kind": r[1], "subject": r[2], "data": json.loads(r[3]), "run": r[4]}
        for r in rows
    ]


def _antminers() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    site = [
        {
            "make": "antminer",
            "model": "S19j Pro",
            "count": COUNT,
            "start": f"{PREFIX}.1",
            "timings": FAST_TIMINGS,
            "set_conf_delay_s": 0.4,
        }
    ]
    return site, [{"make": "antminer", "start": f"{PREFIX}.1", "count": COUNT}]


def _every_make() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    three = COUNT // 4
    kinds: list[tuple[str, dict[str, Any]]] = [
        ("antminer", {"model": "S19j Pro", "set_conf_delay_s": 0.4}),
        ("whatsminer", {"model": "M30S++", "api": "v2", "api_writes": True}),
        # One password for the make, as a site's config gives it.
        ("whatsminer", {"model": "M60S", "api": "v3", "api_writes": True, "password": "admin"}),
        ("auradine", {"model": "AT1500"}),
    ]
    site, config = [], []
    for n, (make, extra) in enumerate(kinds):
        start = f"{PREFIX}.{1 + n * 10}"
        site.append(
            {"make": make, "count": three, "start": start, "timings": FAST_TIMINGS, **extra}
        )
        config.append({"make": make, "start": start, "count": three})
    return site, config


@pytest.mark.parametrize("fleet", [_antminers, _every_make], ids=["antminer", "every-make"])
async def test_kill_9_mid_event_then_converge_without_duplicates(
    tmp_path: Path, fleet: Any
) -> None:
    site_devices, config_devices = fleet()
    # Low enough that every unit must sleep: a power target (Whatsminer, Auradine) cannot
    # fit under it, so the only command either run may send is a sleep.
    level_mw = 0.0005
    site = load_site_dict({"site": "restart", "devices": site_devices})
    async with Fleet(site, speed=50, listen="exact") as sim:
        meter_host = f"{PREFIX}.250"

        def power() -> float:
            return sum(d.snapshot().power_w for d in sim.devices)

        async with SimMeter(power, address=meter_host, port=free_port(meter_host)) as meter:
            port = free_port()
            journal = tmp_path / "journal.sqlite"
            config = controller_config(
                port,
                config_devices,
                str(journal),
                meter={"host": meter_host, "port": meter.port, "interval_s": 0.25},
                control={"concurrency": 2, "confirm_after_s": 3.0},
            )
            config_path = tmp_path / "hashpivot.yaml"
            config_path.write_text(yaml.safe_dump(config))
            async with aiohttp.ClientSession() as session:
                api = Api(session, port, TOKEN)
                daemon = await _start(config_path)
                try:
                    await api_up(api)
                    event = await api.call(
                        "POST",
                        "/events",
                        {"kind": "instructed", "level_mw": level_mw, "within_s": 60},
                        status=201,
                    )
                    await until(lambda: _applied(journal) >= 3, timeout=10)
                    daemon.send_signal(signal.SIGKILL)
                    await daemon.wait()
                    applied_before = _applied(journal)
                    assert applied_before < COUNT  # killed mid-event

                    daemon = await _start(config_path)
                    await api_up(api)
                    await until(lambda: all(_asleep(d) for d in sim.devices))
                    events = await api.call("GET", "/events?active=true")
                    assert [e["event_id"] for e in events["events"]] == [event["event_id"]]
                    await until(lambda: _confirmed(journal, event["event_id"]), timeout=10)
                finally:
                    if daemon.returncode is None:
                        daemon.send_signal(signal.SIGTERM)
                        await asyncio.wait_for(daemon.wait(), 15)
    rows = _rows(journal)
    started = [r for r in rows if r["kind"] == "daemon.started"]
    assert [r["run"] for r in started] == [1, 2]
    assert started[1]["data"]["active_events"] == [event["event_id"]]
    sent = [r for r in rows if r["kind"] == "command.sent"]
    results = [r for r in rows if r["kind"] == "command.result"]
    # Nothing contradictory: every command in either run was a sleep.
    assert {r["data"]["command"] for r in sent} == {"sleep"}
    # No duplicates: a device asleep before the kill was not commanded again after it.
    applied_run1 = {
        r["subject"] for r in results if r["run"] == 1 and r["data"]["result"] == "applied"
    }
    sent_run2 = [r for r in sent if r["run"] == 2]
    assert not applied_run1 & {r["subject"] for r in sent_run2}
    assert max(Counter(r["subject"] for r in sent_run2).values(), default=1) == 1
    # Converged within one cycle: every command after the restart came from its first plan.
    assert {r["data"]["plan"] for r in sent_run2} <= {1}
    assert len(applied_run1) + len(sent_run2) <= COUNT


def _asleep(device: Any) -> bool:
    snapshot = device.snapshot()
    return bool(snapshot.mode == "sleep" or snapshot.phase in {"sleep", "stopping"})


def _applied(journal: Path) -> int:
    try:
        return sum(
            1
            for r in _rows(journal)
            if r["kind"] == "command.result" and r["data"]["result"] == "applied"
        )
    except sqlite3.Error:
        return 0


def _confirmed(journal: Path, event_id: str) -> bool:
    return any(
        r["kind"] == "event.milestone" and r["subject"] == event_id and r["data"]["pct"] == 100
        for r in _rows(journal)
    )
