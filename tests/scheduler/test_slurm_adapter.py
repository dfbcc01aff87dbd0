"""SlurmAdapter without a cluster: missing tools, failing and hanging commands, parsing."""

from __future__ import annotations

from pathlib import Path

import pytest

from drivers.scheduler import (
    ClassRule,
    JobClass,
    NodeMap,
    SchedulerCommandFailed,
    SchedulerError,
    SchedulerNotConfigured,
    SchedulerTimeout,
    SlurmAdapter,
    SlurmSettings,
    UnknownSchedulerNode,
)
from drivers.scheduler.hostlist import expand_hostlist

SQUEUE = """{"jobs": [
 {"job_id": 7, "name": "train", "job_state": "RUNNING", "nodes": "gpu[01-02]",
  "partition": "batch", "qos": "spot", "comment": "", "restart_cnt": 1},
 {"job_id": 8, "name": "infer", "job_state": "RUNNING", "nodes": "gpu03",
  "partition": "batch", "qos": "normal", "comment": "", "restart_cnt": 0}]}"""
SINFO = """{"nodes": [
 {"name": "gpu01", "state": "mixed", "state_flags": ["DRAIN"], "reason": "curtail"},
 {"name": "gpu02", "state": "idle", "state_flags": [], "reason": ""}]}"""


def _tool(bin_dir: Path, name: str, body: str) -> None:
    path = bin_dir / name
    path.write_text("#!/bin/sh\n" + body + "\n")
    path.chmod(0o755)


def _adapter(bin_dir: Path, **kwargs: object) -> SlurmAdapter:
    return SlurmAdapter(SlurmSettings(cluster="test", bin_dir=str(bin_dir), **kwargs))  # type: ignore[arg-type]


async def test_missing_slurm_is_a_clear_configuration_error(tmp_path: Path) -> None:
    adapter = _adapter(tmp_path)
    with pytest.raises(SchedulerNotConfigured, match=r"sinfo not found.*slurm-client"):
        await adapter.nodes()
    with pytest.raises(SchedulerNotConfigured, match="scontrol not found"):
        await adapter._run("scontrol", "ping")


async def test_a_failing_command_carries_its_stderr(tmp_path: Path) -> None:
    _tool(
        tmp_path,
        "sinfo",
        'echo "slurm_load_node error: Unable to contact slurm controller" >&2; exit 1',
    )
    with pytest.raises(SchedulerCommandFailed, match="Unable to contact") as err:
        await _adapter(tmp_path).nodes()
    assert err.value.device_code == 1
    assert err.value.host == "test"


async def test_a_hanging_command_is_killed_at_its_deadline(tmp_path: Path) -> None:
    _tool(tmp_path, "squeue", "exec sleep 30")
    with pytest.raises(SchedulerTimeout):
        await _adapter(tmp_path, command_timeout_s=0.3).jobs()


async def test_garbage_json_is_typed(tmp_path: Path) -> None:
    _tool(tmp_path, "squeue", "echo not json")
    with pytest.raises(SchedulerError, match="--json"):
        await _adapter(tmp_path).jobs()


async def test_reads_parse_and_classify(tmp_path: Path) -> None:
    _tool(tmp_path, "squeue", f"cat <<'EOF'\n{SQUEUE}\nEOF")
    _tool(tmp_path, "sinfo", f"cat <<'EOF'\n{SINFO}\nEOF")
    adapter = _adapter(tmp_path, class_rule=ClassRule("qos", frozenset({"spot"})))
    jobs = await adapter.jobs(["gpu02"])
    assert [(j.job_id, j.nodes, j.job_class, j.restarts) for j in jobs] == [
        (7, ("gpu01", "gpu02"), JobClass.INTERRUPTIBLE, 1)
    ]
    assert (await adapter.jobs())[1].job_class is JobClass.CONTRACTED
    gpu01, gpu02 = await adapter.nodes(["gpu01", "gpu02"])
    assert gpu01.drain_set
    assert not gpu01.drained  # still running jobs: DRAINING
    assert not gpu02.drain_set
    with pytest.raises(UnknownSchedulerNode, match="gpu09"):
        await adapter.nodes(["gpu09"])
    with pytest.raises(SchedulerError, match="reason"):
        await adapter.drain(["gpu01"], " ")


def test_node_map() -> None:
    mapping = NodeMap({"127.0.2.1": "gpu01"}, cluster="c1")
    assert mapping.scheduler_nodes(["127.0.2.1"]) == ("gpu01",)
    with pytest.raises(UnknownSchedulerNode, match=r"127\.0\.2\.9"):
        mapping.scheduler_node("127.0.2.9")


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("", ()),
        ("gpu01", ("gpu01",)),
        ("gpu[01-03,07],login", ("gpu01", "gpu02", "gpu03", "gpu07", "login")),
        ("n[8-10]", ("n8", "n9", "n10")),
    ],
)
def test_hostlists(text: str, names: tuple[str, ...]) -> None:
    assert expand_hostlist(text) == names


def test_class_rule_defaults_to_contracted() -> None:
    rule = ClassRule("comment", frozenset({"spot"}))
    assert rule.classify("interruptible", "", "spot") is JobClass.INTERRUPTIBLE
    assert rule.classify("interruptible", "", "") is JobClass.CONTRACTED


async def test_errors_slurm_reports_in_its_json_are_command_failures(tmp_path: Path) -> None:
    body = '{"errors": [{"description": "Unable to contact slurm controller", "error_number": 1}]}'
    _tool(tmp_path, "sinfo", f"echo '{body}'")
    with pytest.raises(SchedulerCommandFailed, match="Unable to contact slurm controller"):
        await _adapter(tmp_path).nodes()


async def test_a_failed_refresh_is_logged_once_and_counted_every_time(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from controller.clock import SystemClock  # noqa: PLC0415
    from controller.config.drivers import SchedulerSettings  # noqa: PLC0415
    from controller.reconcile.scheduler import SchedulerControl  # noqa: PLC0415

    _tool(tmp_path, "sinfo", """echo '{"sinfo": [{"node": {"state": ["IDLE"]}}]}'""")
    settings = SchedulerSettings(
        node_map=NodeMap({"127.0.4.1": "gpu01"}),
        checkpoint_signal="USR1",
        checkpoint_grace_s=60.0,
        interval_s=5.0,
        action_timeout_s=60.0,
    )
    control = SchedulerControl(_adapter(tmp_path), settings, clock=SystemClock())
    codes: list[str] = []
    control.on_read_error = codes.append
    for _ in range(3):
        await control.refresh()
    assert codes == ["scheduler"] * 3
    assert control.error is not None
    assert "unexpected Slurm JSON" in control.error
    assert sum("unreadable" in r.getMessage() for r in caplog.records) == 1
