"""SlurmAdapter against a real Slurm cluster (munged, slurmctld, four slurmd) on this host.

Every action's report is checked again against Slurm's own state, read here with
plain sinfo/squeue, independently of the adapter.
"""

from __future__ import annotations

import pytest

from drivers.scheduler import (
    ClassRule,
    JobClass,
    Requeue,
    SchedulerCommandFailed,
    SlurmAdapter,
    SlurmSettings,
    UnknownSchedulerNode,
)
from tests.scheduler.slurm_cluster import SlurmCluster

pytestmark = pytest.mark.slow


def _adapter(cluster: SlurmCluster, rule: ClassRule | None = None) -> SlurmAdapter:
    return SlurmAdapter(
        SlurmSettings(
            cluster="hashpivot-test",
            slurm_conf=str(cluster.conf),
            poll_s=0.2,
            class_rule=rule or ClassRule("partition", frozenset({"interruptible"})),
        )
    )


def _running(cluster: SlurmCluster, job_id: int, node: str) -> None:
    def running() -> bool:
        return cluster.job_state(job_id) == ("RUNNING", node)

    cluster.wait_for(f"job {job_id} running", running)
    cluster.wait_for(f"job {job_id} started", (cluster.jobs_dir / f"start.{job_id}").exists)


async def test_nodes_come_up_idle(cluster: SlurmCluster) -> None:
    nodes = await _adapter(cluster).nodes(cluster.names)
    assert [(n.name, n.state, n.drain_set) for n in nodes] == [
        (name, "idle", False) for name in cluster.names
    ]


async def test_drain_and_resume_confirmed_by_slurm(cluster: SlurmCluster) -> None:
    adapter = _adapter(cluster)
    report = await adapter.drain(["gpu03", "gpu04"], "hashpivot curtail: ERCOT ECRS")
    assert report.confirmed
    seen = cluster.nodes()
    assert seen["gpu03"] == ("drained", "hashpivot curtail: ERCOT ECRS")
    assert seen["gpu04"][0] == "drained"
    assert seen["gpu01"][0] == "idle"
    report = await adapter.resume(["gpu03", "gpu04", "gpu01"])
    assert report.notes == ("not drained, left as is: gpu01",)
    assert {state for state, _ in cluster.nodes().values()} == {"idle"}


async def test_drain_with_jobs_running_is_draining(cluster: SlurmCluster) -> None:
    job = cluster.submit(node="gpu02", partition="contracted")
    _running(cluster, job, "gpu02")
    adapter = _adapter(cluster)
    await adapter.drain(["gpu02"], "curtail")
    (node,) = await adapter.nodes(["gpu02"])
    assert node.drain_set
    assert not node.drained
    assert cluster.nodes()["gpu02"][0] == "draining"
    assert cluster.job_state(job) == ("RUNNING", "gpu02")  # drain never kills jobs


async def test_requeue_checkpoints_interruptible_and_leaves_contracted(
    cluster: SlurmCluster,
) -> None:
    spot = cluster.submit(node="gpu01", partition="interruptible")
    paid = cluster.submit(node="gpu02", partition="contracted")
    _running(cluster, spot, "gpu01")
    _running(cluster, paid, "gpu02")
    adapter = _adapter(cluster)
    await adapter.drain(["gpu01", "gpu02"], "curtail")  # so requeued work does not land back
    report = await adapter.requeue(
        ["gpu01", "gpu02"], Requeue(checkpoint_signal="USR1", grace_s=1.5)
    )
    assert report.confirmed
    assert report.jobs == (spot,)
    assert report.left_alone == (paid,)
    assert report.ended_in_grace == ()
    assert cluster.checkpointed(spot), "the job never saw the checkpoint signal"
    assert not cluster.checkpointed(paid)
    state, node = cluster.job_state(spot)
    assert state == "PENDING"
    assert node == ""
    assert cluster.job_state(paid) == ("RUNNING", "gpu02")
    restarts = cluster.run("squeue", "-h", "-j", str(spot), "-O", "RestartCnt").strip()
    assert restarts == "1"


async def test_a_job_that_exits_on_the_signal_is_not_requeued(cluster: SlurmCluster) -> None:
    job_id = int(
        cluster.run(
            "sbatch",
            "--parsable",
            "-p",
            "interruptible",
            "-w",
            "gpu03",
            "-o",
            "/dev/null",
            "--wrap",
            'trap "exit 0" USR1; for i in $(seq 600); do sleep 1 & wait $!; done',
        ).strip()
    )
    cluster.wait_for("running", lambda: cluster.job_state(job_id)[0] == "RUNNING")
    report = await _adapter(cluster).requeue(["gpu03"], Requeue(grace_s=10))
    assert report.ended_in_grace == (job_id,)
    assert report.jobs == ()
    assert cluster.job_state(job_id)[0] in {"GONE", "COMPLETED", "COMPLETING"}


async def test_suspend_and_resume_jobs_by_comment_class(cluster: SlurmCluster) -> None:
    rule = ClassRule("comment", frozenset({"spot"}))
    spot = cluster.submit(node="gpu03", partition="contracted", comment="spot")
    paid = cluster.submit(node="gpu04", partition="contracted")
    _running(cluster, spot, "gpu03")
    _running(cluster, paid, "gpu04")
    adapter = _adapter(cluster, rule)
    jobs = {j.job_id: j.job_class for j in await adapter.jobs(["gpu03", "gpu04"])}
    assert jobs == {spot: JobClass.INTERRUPTIBLE, paid: JobClass.CONTRACTED}
    report = await adapter.suspend(["gpu03", "gpu04"])
    assert report.jobs == (spot,)
    assert report.left_alone == (paid,)
    assert cluster.job_state(spot) == ("SUSPENDED", "gpu03")
    assert cluster.job_state(paid) == ("RUNNING", "gpu04")
    await adapter.resume_jobs([spot])
    assert cluster.job_state(spot) == ("RUNNING", "gpu03")


async def test_failures_are_typed(cluster: SlurmCluster) -> None:
    adapter = _adapter(cluster)
    with pytest.raises(UnknownSchedulerNode, match="gpu99"):
        await adapter.drain(["gpu99"], "curtail")
    with pytest.raises(SchedulerCommandFailed, match=r"scontrol resume 999999: .*job"):
        await adapter.resume_jobs([999999])
