"""Slurm's --json in each release's shape, and anything else as a typed error."""

from __future__ import annotations

import contextlib
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drivers.scheduler import ClassRule, JobClass, SchedulerError
from drivers.scheduler.hostlist import MAX_HOSTS, expand_hostlist
from drivers.scheduler.slurm_json import parse_jobs, parse_nodes

RULE = ClassRule("partition", frozenset({"spot"}))

# Slurm 22.05 (Debian 12), as the test cluster prints it.
SINFO_22 = {"nodes": [
    {"name": "gpu01", "state": "mixed", "state_flags": ["DRAIN"], "reason": "curtail"},
    {"name": "gpu02", "state": "idle", "state_flags": [], "reason": ""},
]}  # fmt: skip
SQUEUE_22 = {"jobs": [
    {"job_id": 7, "name": "train", "job_state": "RUNNING", "nodes": "gpu[01-02]",
     "partition": "spot", "qos": "normal", "comment": "", "restart_cnt": 1},
]}  # fmt: skip

# Slurm 23.02 and later (24.11 here): rows grouped by state, lists for states,
# numbers wrapped in {"set", "infinite", "number"}.
SINFO_24 = {"errors": [], "warnings": [], "meta": {}, "sinfo": [
    {"partition": {"name": "gpu"}, "node": {"state": ["MIXED", "DRAIN"]},
     "nodes": {"nodes": ["gpu01"], "total": 1}, "reason": "curtail"},
    {"partition": {"name": "gpu"}, "node": {"state": ["IDLE"]},
     "nodes": {"nodes": ["gpu02", "gpu03"], "total": 2}, "reason": ""},
    {"partition": {"name": "spot"}, "node": {"state": ["IDLE"]},
     "nodes": {"nodes": ["gpu02"], "total": 1}, "reason": ""},
]}  # fmt: skip
SQUEUE_24 = {"errors": [], "jobs": [
    {"job_id": 7, "name": "train", "job_state": ["RUNNING"], "nodes": "gpu[01-02]",
     "partition": "spot", "qos": "normal", "comment": "",
     "restart_cnt": {"set": True, "infinite": False, "number": 1},
     "time_limit": {"set": True, "infinite": False, "number": 60}},
    {"job_id": 8, "name": "infer", "job_state": ["PENDING"], "nodes": "",
     "partition": "gpu", "qos": "normal", "comment": "", "restart_cnt": 0},
]}  # fmt: skip


@pytest.mark.parametrize("data", [SINFO_22, SINFO_24], ids=["22.05", "24.11"])
def test_nodes_in_either_shape(data: dict[str, Any]) -> None:
    nodes = parse_nodes("slurm", data)
    gpu01, gpu02 = nodes["gpu01"], nodes["gpu02"]
    assert (gpu01.state, gpu01.flags, gpu01.reason) == ("mixed", frozenset({"DRAIN"}), "curtail")
    assert gpu01.drain_set
    assert not gpu01.drained  # jobs still run on it
    assert (gpu02.state, gpu02.flags) == ("idle", frozenset())


@pytest.mark.parametrize("data", [SQUEUE_22, SQUEUE_24], ids=["22.05", "24.11"])
def test_jobs_in_either_shape(data: dict[str, Any]) -> None:
    job = parse_jobs("slurm", data, RULE)[0]
    assert (job.job_id, job.state, job.nodes) == (7, "RUNNING", ("gpu01", "gpu02"))
    assert job.job_class is JobClass.INTERRUPTIBLE
    assert job.restarts == 1


def test_a_pending_job_holds_no_nodes() -> None:
    pending = parse_jobs("slurm", SQUEUE_24, RULE)[1]
    assert (pending.state, pending.nodes, pending.job_class) == ("PENDING", (), JobClass.CONTRACTED)


@pytest.mark.parametrize(
    "data",
    [
        [],
        {"nodes": {"gpu01": {}}},
        {"nodes": [{"state": "idle"}]},
        {"nodes": [{"name": "gpu01", "state": 3}]},
        {"sinfo": [{"node": {"state": ["IDLE"]}}]},
        {"sinfo": [{"node": {"state": ["IDLE"]}, "nodes": {"nodes": ["gpu[01-"]}}]},
    ],
)
def test_malformed_sinfo_is_a_scheduler_error(data: Any) -> None:
    with pytest.raises(SchedulerError, match="unexpected Slurm JSON"):
        parse_nodes("slurm", data)


@pytest.mark.parametrize(
    "data",
    [
        {"jobs": [{"name": "no id"}]},
        {"jobs": [{"job_id": "seven"}]},
        {"jobs": [{"job_id": 7, "nodes": 12}]},
        {"jobs": [{"job_id": 7, "nodes": f"gpu[0-{MAX_HOSTS * 10}]"}]},
        {"jobs": "all of them"},
    ],
)
def test_malformed_squeue_is_a_scheduler_error(data: Any) -> None:
    with pytest.raises(SchedulerError, match="unexpected Slurm JSON"):
        parse_jobs("slurm", data, RULE)


def test_a_host_range_too_long_for_any_cluster_is_refused() -> None:
    with pytest.raises(ValueError, match="longer than"):
        expand_hostlist("gpu[1-999999999]")
    with pytest.raises(ValueError, match="bad host range"):
        expand_hostlist("gpu[a-b]")


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=20,
)
field_names = st.sampled_from(
    ["nodes", "sinfo", "jobs", "name", "state", "state_flags", "reason", "node", "job_id",
     "job_state", "restart_cnt", "number", "set", "infinite", "partition"]
)  # fmt: skip
slurmish = st.recursive(
    json_values,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(field_names, inner, max_size=5),
    max_leaves=25,
)


@settings(max_examples=400, deadline=None)
@given(slurmish)
def test_any_json_parses_or_is_a_scheduler_error(data: Any) -> None:
    with contextlib.suppress(SchedulerError):
        parse_nodes("slurm", data)
    with contextlib.suppress(SchedulerError):
        parse_jobs("slurm", data, RULE)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="gpu0123456789[],-x ", max_size=30))
def test_any_host_list_expands_or_is_a_value_error(text: str) -> None:
    try:
        names = expand_hostlist(text)
    except ValueError:
        return
    assert len(names) <= MAX_HOSTS
