"""GPU nodes in the control loop: power limits through the node agent, drains and job
actions through the scheduler (an in-memory fake here; tests/e2e drives real Slurm),
and, without a scheduler, drains reported unsupported once per node."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from controller import app
from controller.app import Controller
from controller.config.settings import parse_config
from controller.errors import ConfigError
from drivers import DriverSettings
from drivers.clock import SYSTEM_TIME
from drivers.scheduler import (
    ActionReport,
    Job,
    JobClass,
    NodeStatus,
    Requeue,
    SchedulerAdapter,
    UnknownSchedulerNode,
)
from simulators import Fleet, load_site_dict
from tests.conftest import free_port
from tests.e2e.helpers import Api, controller_config, until

TOKEN = "hashpivot-sim"  # the simulated agents' well-known token


class FakeSlurm:
    """Just enough scheduler state for the loop: drain flags and who asked what."""

    def __init__(self, names: Sequence[str]) -> None:
        self.drained: dict[str, str] = {}
        self.names = list(names)
        self.calls: list[tuple[str, tuple[str, ...]]] = []

    async def nodes(self, names: Sequence[str] | None = None) -> tuple[NodeStatus, ...]:
        wanted = self.names if names is None else list(names)
        for name in wanted:
            if name not in self.names:
                raise UnknownSchedulerNode("fake", f"no node {name}")
        return tuple(
            NodeStatus(
                n,
                "mixed",
                frozenset({"DRAIN"}) if n in self.drained else frozenset(),
                self.drained.get(n, ""),
            )
            for n in wanted
        )

    async def jobs(self, nodes: Sequence[str] | None = None) -> tuple[Job, ...]:
        return ()

    async def drain(self, nodes: Sequence[str], reason: str) -> ActionReport:
        self.calls.append(("drain", tuple(nodes)))
        self.drained.update(dict.fromkeys(nodes, reason))
        return ActionReport(
            action="drain", nodes=tuple(nodes), confirmed=True, elapsed_s=0.0, detail=reason
        )

    async def resume(self, nodes: Sequence[str]) -> ActionReport:
        self.calls.append(("resume", tuple(nodes)))
        for node in nodes:
            self.drained.pop(node, None)
        return ActionReport(action="resume", nodes=tuple(nodes), confirmed=True, elapsed_s=0.0)

    async def requeue(self, nodes: Sequence[str], how: Requeue = Requeue()) -> ActionReport:
        self.calls.append((f"requeue:{how.checkpoint_signal}:{how.grace_s:g}", tuple(nodes)))
        return ActionReport(
            action="requeue", nodes=tuple(nodes), confirmed=True, elapsed_s=0.0, jobs=(7,)
        )

    async def suspend(
        self, nodes: Sequence[str], *, job_class: JobClass = JobClass.INTERRUPTIBLE
    ) -> ActionReport:
        self.calls.append(("suspend", tuple(nodes)))
        return ActionReport(action="suspend", nodes=tuple(nodes), confirmed=True, elapsed_s=0.0)

    async def resume_jobs(self, job_ids: Sequence[int]) -> ActionReport:
        return ActionReport(
            action="resume_jobs", nodes=(), confirmed=True, elapsed_s=0.0, jobs=tuple(job_ids)
        )


def _groups(prefix: str) -> list[dict[str, Any]]:
    return [
        {
            "make": "gpu",
            "address": f"{prefix}.1",
            "ai_class": "contracted",
            "credentials": {"password": TOKEN},
        },
        {
            "make": "gpu",
            "address": f"{prefix}.2",
            "ai_class": "interruptible",
            "credentials": {"password": TOKEN},
        },
    ]


@asynccontextmanager
async def _site(
    prefix: str, tmp_path: Path, adapter: SchedulerAdapter | None, **overrides: Any
) -> AsyncIterator[tuple[Fleet, Controller, Api]]:
    site = {
        "site": "gpu",
        "devices": [
            {"make": "gpu", "model": "H200", "count": 2, "start": f"{prefix}.1", "settle_s": 0.1},
        ],
    }
    async with Fleet(load_site_dict(site), speed=50, listen="exact") as sim:
        port = free_port()
        config = controller_config(port, _groups(prefix), str(tmp_path / "j.sqlite"), **overrides)
        async with (
            Controller(parse_config(config), scheduler=adapter) as controller,
            aiohttp.ClientSession() as session,
        ):
            await until(lambda: controller.loop.view is not None, timeout=20)
            yield sim, controller, Api(session, port)


def _limits(sim: Fleet, address: str) -> set[float]:
    return {g.limit_w for g in sim.device(address).gpus}  # type: ignore[attr-defined]


# An event the interruptible node's power cap alone cannot meet: it must be drained.
EVENT = {"kind": "instructed", "level_mw": 0.0145, "within_s": 30}


async def test_grid_event_drains_the_interruptible_node_and_resumes_it(tmp_path: Path) -> None:
    prefix = "127.0.121"
    slurm = FakeSlurm(["gpu01", "gpu02"])
    scheduler = {
        "nodes": {f"{prefix}.1": "gpu01", f"{prefix}.2": "gpu02"},
        "checkpoint_grace_s": 1,
        "interval_s": 0.3,
    }
    async with _site(prefix, tmp_path, slurm, scheduler=scheduler) as (sim, _controller, api):
        event = await api.call("POST", "/events", EVENT, status=201)
        await until(lambda: "gpu02" in slurm.drained)
        await until(lambda: any(c[0].startswith("requeue") for c in slurm.calls))
        assert ("requeue:USR1:1", ("gpu02",)) in slurm.calls
        assert slurm.drained["gpu02"].startswith("hashpivot: ")
        assert all(nodes == ("gpu02",) for _, nodes in slurm.calls)  # contracted untouched
        assert _limits(sim, f"{prefix}.1") == {700.0}
        results = await api.call("GET", "/journal?kind=command.result&limit=100")
        done = {
            (e["subject"], e["data"]["command"]): e["data"]["result"] for e in results["entries"]
        }
        assert done[(f"{prefix}.2", "drain")] == "applied"
        assert done[(f"{prefix}.2", "requeue_jobs")] == "applied"
        await asyncio.sleep(1.0)  # several sweeps: the drain is seen, never sent again
        assert [c for c in slurm.calls if c[0] == "drain"] == [("drain", ("gpu02",))]
        await api.call("DELETE", f"/events/{event['event_id']}")
        await until(lambda: "gpu02" not in slurm.drained, timeout=15)
        await until(lambda: _limits(sim, f"{prefix}.2") == {700.0}, timeout=15)
        status = await api.call("GET", "/status")
        assert status["scheduler"] == {"cluster": "slurm", "nodes": 2, "error": None}


async def test_without_a_scheduler_drains_are_unsupported_once_and_nodes_capped(
    tmp_path: Path,
) -> None:
    prefix = "127.0.122"
    async with _site(prefix, tmp_path, None) as (sim, _controller, api):
        await api.call("POST", "/events", EVENT, status=201)
        # The interruptible node is capped to its floor, confirmed on the simulated node.
        await until(lambda: _limits(sim, f"{prefix}.2") == {200.0}, timeout=15)
        await asyncio.sleep(1.5)  # several plans and sweeps
        rows = await api.call("GET", "/journal?kind=device.unsupported&limit=100")
        assert [(e["subject"], e["data"]["lever"]) for e in rows["entries"]] == [
            (f"{prefix}.2", "drain")
        ]
        results = await api.call("GET", "/journal?kind=command.sent&limit=500")
        drains = [e for e in results["entries"] if e["data"]["command"] == "drain"]
        assert len(drains) == 1
        plan = await api.call("GET", "/plan")
        assert any("drain unsupported on 1 device(s)" in n for n in plan["notes"])
        status = await api.call("GET", "/status")
        assert set(status["unsupported"]) == {f"{prefix}.2"}
        assert status["scheduler"] is None
        assert "none is configured" in status["unsupported"][f"{prefix}.2"]["drain"]


def test_scheduler_and_driver_sections_are_checked() -> None:
    base: dict[str, Any] = {"site": "s", "devices": _groups("127.0.123")}
    config = parse_config(
        {
            **base,
            "scheduler": {
                "bin_dir": "/opt/slurm/bin",
                "slurm_conf": "/etc/slurm/slurm.conf",
                "class_rule": {"by": "qos", "interruptible": ["spot"]},
                "nodes": {"127.0.123.2": "gpu02"},
            },
        }
    )
    assert config.scheduler is not None
    slurm = config.scheduler.slurm_settings()
    assert slurm.class_rule.classify("batch", "spot", "") is JobClass.INTERRUPTIBLE
    assert slurm.bin_dir == "/opt/slurm/bin"
    assert config.drivers.to_settings() == DriverSettings()
    with pytest.raises(ConfigError, match=r"scheduler.nodes: \['127.0.9.9'\] are not GPU nodes"):
        parse_config({**base, "scheduler": {"nodes": {"127.0.9.9": "gpu09"}}})
    with pytest.raises(ConfigError, match="more than one GPU node"):
        parse_config(
            {**base, "scheduler": {"nodes": {"127.0.123.1": "gpu01", "127.0.123.2": "gpu01"}}}
        )
    with pytest.raises(ConfigError, match="ai_class applies to make: gpu"):
        parse_config(
            {
                "site": "s",
                "devices": [
                    {"make": "antminer", "address": "127.0.123.9", "ai_class": "contracted"}
                ],
            }
        )
    small = parse_config({**base, "drivers": {"per_device_concurrency": 1, "read_timeout_s": 4}})
    assert small.drivers.to_settings() == DriverSettings(read_timeout_s=4, per_device_concurrency=1)
    with pytest.raises(ConfigError, match="per_device_concurrency"):
        parse_config({**base, "drivers": {"per_device_concurrency": 0}})


def test_every_driver_gets_the_drivers_section(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[DriverSettings] = []
    real = app.open_driver

    def spy(*args: Any, settings: DriverSettings | None = None, **kwargs: Any) -> Any:
        assert settings is not None
        seen.append(settings)
        return real(*args, settings=settings, **kwargs)

    monkeypatch.setattr(app, "open_driver", spy)
    devices = [*_groups("127.0.123"), {"make": "antminer", "address": "127.0.123.9"}]
    config = parse_config(
        {"site": "s", "drivers": {"per_device_concurrency": 1}, "devices": devices}
    )
    fleet = app.build_fleet(config, clock=SYSTEM_TIME)
    assert len(fleet) == 3
    assert seen == [DriverSettings(per_device_concurrency=1)] * 3
