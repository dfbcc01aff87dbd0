"""The loop with a real Slurm cluster (munged, slurmctld, four slurmd on this host): a grid
event that the miners alone cannot meet drains the interruptible GPU node in Slurm and
requeues its job after a checkpoint signal, leaves the contracted node and its job
running, and resumes the node after the event. Every step is checked with plain
sinfo/squeue, independently of the adapter.

Skipped without Slurm or root unless CI is set, exactly like tests/scheduler.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from controller.app import Controller
from controller.config.settings import parse_config
from simulators import Fleet, load_site_dict
from simulators.meter import SimMeter
from tests.conftest import free_port
from tests.e2e.helpers import (
    FAST_TIMINGS,
    Api,
    controller_config,
    device_groups,
    gpu_limits,
    until,
)
from tests.scheduler.conftest import cluster, slurm_cluster
from tests.scheduler.slurm_cluster import SlurmCluster

pytestmark = pytest.mark.slow
__all__ = ["cluster", "slurm_cluster"]  # the fixtures, shared with tests/scheduler

PREFIX = "127.0.124"
CONTRACTED, INTERRUPTIBLE = f"{PREFIX}.61", f"{PREFIX}.62"


def _site() -> dict[str, object]:
    miners = [
        ("antminer", "S19j Pro", 1, {}),
        ("antminer", "S21", 2, {}),
        ("whatsminer", "M30S++", 3, {"api_writes": True}),
        ("auradine", "AT1500", 4, {}),
    ]
    devices: list[dict[str, object]] = [
        {
            "make": make,
            "model": model,
            "count": 1,
            "start": f"{PREFIX}.{last}",
            "timings": FAST_TIMINGS,
            **extra,
        }
        for make, model, last, extra in miners
    ]
    devices += [
        {"make": "gpu", "model": "H200", "count": 1, "start": address, "settle_s": 0.1}
        for address in (CONTRACTED, INTERRUPTIBLE)
    ]
    return {"site": "slurm-e2e", "devices": devices}


@asynccontextmanager
async def _controller(
    cluster: SlurmCluster, tmp_path: Path
) -> AsyncIterator[tuple[Fleet, Controller, Api]]:
    site = _site()
    async with Fleet(load_site_dict(site), speed=50, listen="exact") as sim:
        address = f"{PREFIX}.250"

        def power() -> float:
            return sum(d.snapshot().power_w for d in sim.devices)

        meter = SimMeter(
            power, base_load_w=500, address=address, port=free_port(address), clock=sim.clock
        )
        async with meter:
            port = free_port()
            scheduler = {
                "cluster": "hashpivot-test",
                "slurm_conf": str(cluster.conf),
                "poll_s": 0.2,
                "interval_s": 0.5,
                "checkpoint_grace_s": 1.0,
                "class_rule": {"by": "partition", "interruptible": ["interruptible"]},
                "nodes": {CONTRACTED: "gpu01", INTERRUPTIBLE: "gpu02"},
            }
            config = controller_config(
                port,
                device_groups(site),
                str(tmp_path / "slurm.sqlite"),
                meter={"host": address, "port": meter.port, "interval_s": 0.25},
                scheduler=scheduler,
            )
            async with (
                Controller(parse_config(config)) as controller,
                aiohttp.ClientSession() as session,
            ):
                await until(lambda: controller.loop.view is not None, timeout=20)
                yield sim, controller, Api(session, port)


async def test_grid_event_drains_and_requeues_interruptible_work_in_slurm(
    cluster: SlurmCluster, tmp_path: Path
) -> None:
    paid = cluster.submit(node="gpu01", partition="contracted")
    spot = cluster.submit(node="gpu02", partition="interruptible")
    cluster.wait_for(
        "jobs running",
        lambda: (
            cluster.job_state(paid) == ("RUNNING", "gpu01")
            and cluster.job_state(spot) == ("RUNNING", "gpu02")
        ),
    )
    cluster.wait_for("spot job started", (cluster.jobs_dir / f"start.{spot}").exists)

    async with _controller(cluster, tmp_path) as (sim, controller, api):
        # Planned: four miners asleep 0.13 kW, the contracted node 10.2 kW, the
        # interruptible one 6.2 kW capped or 2 kW drained: 13.8 kW needs the drain.
        event = await api.call(
            "POST",
            "/events",
            {"kind": "instructed", "level_mw": 0.0138, "within_s": 30},
            status=201,
        )
        await until(lambda: "drain" in cluster.nodes()["gpu02"][0], timeout=20)
        assert cluster.nodes()["gpu02"][1].startswith("hashpivot: ")
        await until(lambda: cluster.job_state(spot)[0] == "PENDING", timeout=20)
        assert cluster.checkpointed(spot), "the job never saw the checkpoint signal"
        # The spot job is off the node: its GPUs go idle (the simulator knows no Slurm).
        sim.device(INTERRUPTIBLE).stop_job()  # type: ignore[attr-defined]
        await until(lambda: controller.events.confirmed(event["event_id"]), timeout=20)

        # The contracted node and its job are untouched, in Slurm and on the node.
        assert cluster.job_state(paid) == ("RUNNING", "gpu01")
        assert not cluster.checkpointed(paid)
        assert "drain" not in cluster.nodes()["gpu01"][0]
        assert gpu_limits(sim, CONTRACTED) == {700.0}
        done: dict[tuple[str, str], dict[str, Any]] = {}
        async with asyncio.timeout(20):
            while (INTERRUPTIBLE, "requeue_jobs") not in done:  # Slurm shows it, then we log
                await asyncio.sleep(0.2)
                results = await api.call("GET", "/journal?kind=command.result&limit=1000")
                done = {(e["subject"], e["data"]["command"]): e["data"] for e in results["entries"]}
        assert done[(INTERRUPTIBLE, "drain")]["result"] == "applied"
        requeue = done[(INTERRUPTIBLE, "requeue_jobs")]
        assert requeue["result"] == "applied"
        assert f"jobs [{spot}]" in requeue["detail"]
        assert not any(subject == CONTRACTED for subject, _ in done)
        report = await api.call("GET", f"/events/{event['event_id']}/report")
        assert report["met_by_deadline"] is True
        assert report["confirmed_by"] == "meter"

        # After the event the node is resumed: schedulable, idle, the requeued job waiting
        # for it (Slurm holds a requeued job back for its begin time before it runs again).
        await api.call("DELETE", f"/events/{event['event_id']}")
        await until(lambda: cluster.nodes()["gpu02"][0] == "idle", timeout=20)
        assert cluster.job_state(spot)[0] == "PENDING"
        assert cluster.job_state(paid) == ("RUNNING", "gpu01")
        await until(lambda: gpu_limits(sim, INTERRUPTIBLE) == {700.0}, timeout=10)
        sent = await api.call("GET", "/journal?kind=command.sent&limit=1000")
        drains = [e for e in sent["entries"] if e["data"]["command"] == "drain"]
        assert [e["subject"] for e in drains] == [INTERRUPTIBLE]  # once, never repeated
