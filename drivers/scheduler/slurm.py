"""Slurm through its command-line tools: ``sinfo``/``squeue --json``, ``scontrol``, ``scancel``.

Every command is an asyncio subprocess with a deadline (killed when it passes); a
missing tool is :class:`SchedulerNotConfigured`, a non-zero exit is
:class:`SchedulerCommandFailed` carrying stderr. Every action polls Slurm's own
state until it shows the change, or raises :class:`ActionNotConfirmed`.

Slurm 22.05 has ``--json`` on ``sinfo`` and ``squeue`` but not on ``scontrol``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import shutil
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from drivers.scheduler.base import ActionReport, ClassRule, Job, JobClass, NodeStatus, Requeue
from drivers.scheduler.errors import (
    ActionNotConfirmed,
    SchedulerCommandFailed,
    SchedulerError,
    SchedulerNotConfigured,
    SchedulerTimeout,
    UnknownSchedulerNode,
)
from drivers.scheduler.slurm_json import parse_jobs, parse_nodes

__all__ = ["SlurmAdapter", "SlurmSettings"]

_log = logging.getLogger(__name__)

_GONE = frozenset(
    {
        "COMPLETED",
        "CANCELLED",
        "FAILED",
        "TIMEOUT",
        "NODE_FAIL",
        "PREEMPTED",
        "OUT_OF_MEMORY",
        "BOOT_FAIL",
        "DEADLINE",
    }
)
_REQUEUED = frozenset({"PENDING", "REQUEUED", "REQUEUE_HOLD", "REQUEUE_FED", "CONFIGURING"})


@dataclass(frozen=True, slots=True, kw_only=True)
class SlurmSettings:
    cluster: str = "slurm"  # names the cluster in errors and logs
    bin_dir: str | None = None  # where the Slurm tools live; None: $PATH
    slurm_conf: str | None = None  # sets SLURM_CONF for every command
    command_timeout_s: float = 15.0
    confirm_timeout_s: float = 20.0
    poll_s: float = 0.25
    class_rule: ClassRule = field(default_factory=ClassRule)


class SlurmAdapter:
    """One Slurm cluster, as a :class:`drivers.scheduler.base.SchedulerAdapter`."""

    def __init__(self, settings: SlurmSettings | None = None) -> None:
        self.settings = settings or SlurmSettings()
        self._host = self.settings.cluster
        self._env = dict(os.environ)
        if self.settings.slurm_conf:
            self._env["SLURM_CONF"] = self.settings.slurm_conf

    def _tool(self, name: str) -> str:
        path = shutil.which(name, path=self.settings.bin_dir)
        if path is None:
            where = self.settings.bin_dir or "$PATH"
            raise SchedulerNotConfigured(
                self._host,
                f"{name} not found in {where}: install the Slurm client tools "
                "(Debian: slurm-client) or set the scheduler's bin_dir",
            )
        return path

    async def _run(self, name: str, *args: str) -> str:
        argv = (self._tool(name), *args)
        proc = await asyncio.create_subprocess_exec(
            *argv,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=self._env,
        )
        try:
            out, err = await asyncio.wait_for(proc.communicate(), self.settings.command_timeout_s)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            await proc.wait()
            raise SchedulerTimeout(
                self._host,
                f"{name} {' '.join(args)}: no answer in {self.settings.command_timeout_s:g} s",
            ) from None
        if proc.returncode != 0:
            message = err.decode(errors="replace").strip() or f"exit {proc.returncode}"
            raise SchedulerCommandFailed(
                self._host,
                f"{name} {' '.join(args)}: {message}",
                device_code=proc.returncode,
                device_msg=message,
            )
        return out.decode(errors="replace")

    async def _json(self, name: str, *args: str) -> dict[str, Any]:
        text = await self._run(name, *args, "--json")
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise SchedulerError(self._host, f"{name} --json printed something else") from exc
        if not isinstance(data, dict):
            raise SchedulerError(self._host, f"{name} --json: not an object")
        errors = data.get("errors")
        if isinstance(errors, list) and errors:
            first = errors[0]
            words = (
                first.get("description") or first.get("error") if isinstance(first, dict) else first
            )
            raise SchedulerCommandFailed(
                self._host, f"{name} --json reported: {words}", device_msg=str(words)
            )
        return data

    # Reads ---------------------------------------------------------------------------

    async def nodes(self, names: Sequence[str] | None = None) -> tuple[NodeStatus, ...]:
        found = parse_nodes(self._host, await self._json("sinfo"))
        if names is None:
            return tuple(found.values())
        missing = [n for n in names if n not in found]
        if missing:
            raise UnknownSchedulerNode(self._host, f"Slurm has no node {', '.join(missing)}")
        return tuple(found[n] for n in names)

    async def jobs(self, nodes: Sequence[str] | None = None) -> tuple[Job, ...]:
        """Jobs that have not ended, on any of ``nodes`` (all jobs when None)."""
        wanted = set(nodes or ())
        # squeue --json also lists jobs that ended within MinJobAge; they hold nothing.
        return tuple(
            job
            for job in parse_jobs(self._host, await self._json("squeue"), self.settings.class_rule)
            if job.state not in _GONE and (not wanted or wanted.intersection(job.nodes))
        )

    async def _confirm(
        self, what: str, check: Callable[[], Awaitable[bool]], started: float
    ) -> None:
        deadline = started + self.settings.confirm_timeout_s
        while True:
            if await check():
                return
            if time.monotonic() >= deadline:
                raise ActionNotConfirmed(
                    self._host,
                    f"{what}: Slurm does not show it after {self.settings.confirm_timeout_s:g} s",
                )
            await asyncio.sleep(self.settings.poll_s)

    # Node actions --------------------------------------------------------------------

    async def drain(self, nodes: Sequence[str], reason: str) -> ActionReport:
        if not reason.strip():
            raise SchedulerError(self._host, "Slurm needs a reason to drain a node")
        started = time.monotonic()
        await self.nodes(nodes)  # unknown names fail here, typed, before anything changes
        names = ",".join(nodes)
        await self._run(
            "scontrol", "update", f"NodeName={names}", "State=DRAIN", f"Reason={reason}"
        )

        async def drained() -> bool:
            return all(n.drain_set for n in await self.nodes(nodes))

        await self._confirm(f"drain {names}", drained, started)
        _log.info("%s: drained %s (%s)", self._host, names, reason)
        return replace(_confirmed("drain", nodes, started), detail=reason)

    async def resume(self, nodes: Sequence[str]) -> ActionReport:
        started = time.monotonic()
        todo = [n.name for n in await self.nodes(nodes) if n.drain_set or n.state == "down"]
        if todo:  # RESUME on a node that is not drained is an error in Slurm: skip those
            await self._run("scontrol", "update", f"NodeName={','.join(todo)}", "State=RESUME")

            async def resumed() -> bool:
                # After RESUME Slurm pings the node and shows it NOT_RESPONDING (idle*)
                # until the reply: schedulable only once that clears as well.
                return not any(
                    n.drain_set or "NOT_RESPONDING" in n.flags for n in await self.nodes(todo)
                )

            await self._confirm(f"resume {','.join(todo)}", resumed, started)
            _log.info("%s: resumed %s", self._host, ",".join(todo))
        skipped = tuple(sorted(set(nodes) - set(todo)))
        notes = (f"not drained, left as is: {', '.join(skipped)}",) if skipped else ()
        return replace(_confirmed("resume", nodes, started), notes=notes)

    # Job actions ---------------------------------------------------------------------

    async def _split(
        self, nodes: Sequence[str], job_class: JobClass, states: frozenset[str]
    ) -> tuple[list[Job], list[Job]]:
        await self.nodes(nodes)
        on_nodes = [j for j in await self.jobs(nodes) if j.state in states]
        return (
            [j for j in on_nodes if j.job_class is job_class],
            [j for j in on_nodes if j.job_class is not job_class],
        )

    async def _states(self, ids: Sequence[int]) -> dict[int, Job]:
        wanted = set(ids)
        return {j.job_id: j for j in await self.jobs() if j.job_id in wanted}

    async def _jobs_to(
        self, verb: str, ids: Sequence[int], state: str, what: str, started: float
    ) -> None:
        """``scontrol <verb>`` the jobs, then wait until every one of them reads ``state``."""
        await self._run("scontrol", verb, ",".join(map(str, ids)))

        async def reached() -> bool:
            states = await self._states(ids)
            return all(i in states and states[i].state == state for i in ids)

        await self._confirm(what, reached, started)

    async def requeue(self, nodes: Sequence[str], how: Requeue = Requeue()) -> ActionReport:
        """Signal the class's running jobs to checkpoint, wait up to the grace, requeue.

        Jobs that end during the grace period are reported, not requeued. Jobs of
        other classes are left alone and listed as such.
        """
        started = time.monotonic()
        targets, others = await self._split(nodes, how.job_class, frozenset({"RUNNING"}))
        ids = [j.job_id for j in targets]
        ended: list[int] = []
        if ids and how.checkpoint_signal:
            for job_id in ids:
                await self._run(
                    "scancel", f"--signal={how.checkpoint_signal}", "--batch", str(job_id)
                )
            _log.info("%s: sent %s to jobs %s", self._host, how.checkpoint_signal, ids)
            deadline = time.monotonic() + how.grace_s
            while time.monotonic() < deadline:
                states = await self._states(ids)
                ended = [i for i in ids if i not in states or states[i].state in _GONE]
                if len(ended) == len(ids):
                    break
                await asyncio.sleep(self.settings.poll_s)
        still = [i for i in ids if i not in ended]
        if still:
            await self._run("scontrol", "requeue", ",".join(map(str, still)))
            before = {j.job_id: j.restarts for j in targets}

            async def requeued() -> bool:
                states = await self._states(still)
                return all(
                    i in states
                    and states[i].state in _REQUEUED
                    and (states[i].restarts > before[i] or not set(states[i].nodes) & set(nodes))
                    for i in still
                )

            await self._confirm(f"requeue {still}", requeued, started)
            _log.info("%s: requeued %s from %s", self._host, still, ",".join(nodes))
        return replace(
            _confirmed("requeue", nodes, started),
            jobs=tuple(still),
            left_alone=tuple(j.job_id for j in others),
            ended_in_grace=tuple(ended),
            detail=f"signal {how.checkpoint_signal}, grace {how.grace_s:g} s"
            if how.checkpoint_signal
            else "",
        )

    async def suspend(
        self, nodes: Sequence[str], *, job_class: JobClass = JobClass.INTERRUPTIBLE
    ) -> ActionReport:
        """Suspend the class's running jobs. They keep their GPU memory, so GPUs still idle-draw."""
        started = time.monotonic()
        targets, others = await self._split(nodes, job_class, frozenset({"RUNNING"}))
        ids = [j.job_id for j in targets]
        if ids:
            await self._jobs_to("suspend", ids, "SUSPENDED", f"suspend {ids}", started)
        report = _confirmed("suspend", nodes, started)
        return replace(report, jobs=tuple(ids), left_alone=tuple(j.job_id for j in others))

    async def resume_jobs(self, job_ids: Sequence[int]) -> ActionReport:
        started = time.monotonic()
        ids = list(job_ids)
        if ids:
            await self._jobs_to("resume", ids, "RUNNING", f"resume jobs {ids}", started)
        return replace(_confirmed("resume_jobs", (), started), jobs=tuple(ids))


def _confirmed(action: str, nodes: Sequence[str], started: float) -> ActionReport:
    """The report of an action that Slurm's own state now shows; callers add what it did."""
    return ActionReport(
        action=action, nodes=tuple(nodes), confirmed=True, elapsed_s=time.monotonic() - started
    )
