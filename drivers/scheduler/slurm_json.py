"""Slurm's ``--json`` output, in the shapes its releases print, into nodes and jobs.

Slurm 22.05 (Debian 12) prints ``sinfo --json`` as ``{"nodes": [{"name", "state":
"idle", "state_flags": ["DRAIN"]}]}`` and a job's ``job_state`` as a string. From 23.02
``sinfo --json`` prints ``{"sinfo": [{"nodes": {"nodes": [names]}, "node": {"state":
["IDLE", "DRAIN"]}}]}``, states are lists with the base state first, and numbers may be
``{"set": true, "infinite": false, "number": 3}``. Anything else is a
:class:`SchedulerError`, never a KeyError from deep inside the adapter.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from drivers.scheduler.base import ClassRule, Job, NodeStatus
from drivers.scheduler.errors import SchedulerError
from drivers.scheduler.hostlist import expand_hostlist

__all__ = ["parse_jobs", "parse_nodes"]


def _fail(host: str, what: str) -> SchedulerError:
    return SchedulerError(host, f"unexpected Slurm JSON: {what}")


def _list(host: str, value: object, what: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise _fail(host, f"{what} is not a list")
    return value


def _text(value: object) -> str:
    return "" if value is None else str(value)


def _number(host: str, value: object, what: str, default: int = 0) -> int:
    if isinstance(value, Mapping):  # 23.02+: {"set": bool, "infinite": bool, "number": n}
        if not value.get("set", True) or value.get("infinite"):
            return default
        value = value.get("number")
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise _fail(host, f"{what} is not a number")
    try:
        return int(value)
    except ValueError:
        raise _fail(host, f"{what} is not a number") from None


def _states(host: str, value: object, flags: object, what: str) -> tuple[str, frozenset[str]]:
    """(base state, flags): ``"idle"`` + ``["DRAIN"]`` (22.05) or ``["IDLE", "DRAIN"]``."""
    if isinstance(value, list):
        words = [str(v) for v in value]
        base, extra = (words[0], words[1:]) if words else ("unknown", [])
    elif value is None or isinstance(value, str):
        base, extra = value or "unknown", []
    else:
        raise _fail(host, f"{what} state is neither a word nor a list")
    extra += [str(f) for f in _list(host, flags, f"{what} state_flags")]
    return base.lower(), frozenset(f.upper() for f in extra)


def _hosts(host: str, value: object, what: str) -> tuple[str, ...]:
    items = value if isinstance(value, list) else [value]
    names: list[str] = []
    for item in items:
        if item is None:
            continue
        if not isinstance(item, str):
            raise _fail(host, f"{what} is not a host list")
        try:
            names.extend(expand_hostlist(item))
        except ValueError as exc:
            raise _fail(host, f"{what}: {exc}") from None
    return tuple(names)


def _node_rows(host: str, data: Mapping[str, Any]) -> Iterator[NodeStatus]:
    for row in _list(host, data.get("nodes"), "nodes"):
        if not isinstance(row, Mapping) or not isinstance(row.get("name"), str):
            raise _fail(host, "a node without a name")
        state, flags = _states(host, row.get("state"), row.get("state_flags"), row["name"])
        yield NodeStatus(row["name"], state, flags, _text(row.get("reason")))
    for row in _list(host, data.get("sinfo"), "sinfo"):
        if not isinstance(row, Mapping):
            raise _fail(host, "an sinfo row is not an object")
        names, node = row.get("nodes"), row.get("node")
        if not isinstance(names, Mapping) or not isinstance(node, Mapping):
            raise _fail(host, "an sinfo row without nodes.nodes and node.state")
        state, flags = _states(host, node.get("state"), None, "sinfo row")
        reason = row.get("reason")
        reason = reason.get("description") if isinstance(reason, Mapping) else reason
        for name in _hosts(host, names.get("nodes"), "sinfo nodes.nodes"):
            yield NodeStatus(name, state, flags, _text(reason))


def parse_nodes(host: str, data: object) -> dict[str, NodeStatus]:
    """Node name -> status, the first row winning where a node is in several partitions."""
    if not isinstance(data, Mapping):
        raise _fail(host, "sinfo printed no object")
    found: dict[str, NodeStatus] = {}
    for status in _node_rows(host, data):
        found.setdefault(status.name, status)
    return found


def parse_jobs(host: str, data: object, rule: ClassRule) -> tuple[Job, ...]:
    """Every job squeue lists, ended ones included (callers filter)."""
    if not isinstance(data, Mapping):
        raise _fail(host, "squeue printed no object")
    jobs = []
    for raw in _list(host, data.get("jobs"), "jobs"):
        if not isinstance(raw, Mapping):
            raise _fail(host, "a job is not an object")
        job_id = _number(host, raw.get("job_id"), "job_id", default=-1)
        if job_id < 0:
            raise _fail(host, "a job without a job_id")
        partition, qos = _text(raw.get("partition")), _text(raw.get("qos"))
        comment = _text(raw.get("comment"))
        state, _ = _states(host, raw.get("job_state"), None, f"job {job_id}")
        jobs.append(
            Job(
                job_id=job_id,
                name=_text(raw.get("name")),
                state=state.upper(),
                nodes=_hosts(host, raw.get("nodes") or "", f"job {job_id} nodes"),
                job_class=rule.classify(partition, qos, comment),
                partition=partition,
                qos=qos,
                comment=comment,
                restarts=_number(host, raw.get("restart_cnt"), f"job {job_id} restart_cnt"),
            )
        )
    return tuple(jobs)
