"""Configuration sections for what the controller talks to: driver timeouts and the scheduler.

``drivers:`` sets every device driver's timeouts and how many requests one device may
have in flight (a 10,000-unit site sets ``per_device_concurrency: 1``). ``scheduler:``
names the AI job scheduler that drains GPU nodes and requeues their jobs; without it,
GPU nodes are only ever power-capped and the plan says so.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Annotated, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from drivers import DriverSettings
from drivers.scheduler import ClassRule, NodeMap, SlurmSettings

__all__ = ["ClassRuleConfig", "DriversConfig", "SchedulerConfig", "SchedulerSettings"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DriversConfig(_Strict):
    """Every driver's network settings; the defaults suit stock firmware."""

    connect_timeout_s: Annotated[float, Field(gt=0, le=120)] = 3.0
    read_timeout_s: Annotated[float, Field(gt=0, le=600)] = 10.0
    # Stock Antminer set_miner_conf can take 20-35 s to answer.
    write_timeout_s: Annotated[float, Field(gt=0, le=600)] = 40.0
    per_device_concurrency: Annotated[int, Field(ge=1, le=64)] = 2

    def to_settings(self) -> DriverSettings:
        return DriverSettings(**self.model_dump())


class ClassRuleConfig(_Strict):
    """Which jobs are interruptible: those whose partition, QOS or comment is listed.

    Anything else is contracted, so a mislabelled job is never interrupted.
    """

    by: Literal["partition", "qos", "comment"] = "partition"
    interruptible: list[str] = Field(default_factory=lambda: ["interruptible"], min_length=1)


@dataclass(frozen=True, slots=True, kw_only=True)
class SchedulerSettings:
    """What the loop needs besides the adapter: the node map and the job-action knobs."""

    node_map: NodeMap
    checkpoint_signal: str | None
    checkpoint_grace_s: float
    interval_s: float  # how often node states are read from the scheduler
    action_timeout_s: float  # the most one drain, resume or requeue may take, all told


class SchedulerConfig(_Strict):
    """A Slurm cluster. ``nodes`` maps a GPU node's device id or address to its Slurm name."""

    kind: Literal["slurm"] = "slurm"
    cluster: Annotated[str, Field(min_length=1)] = "slurm"
    bin_dir: str | None = None  # where sinfo/squeue/scontrol/scancel live; None: $PATH
    slurm_conf: str | None = None  # sets SLURM_CONF for every command
    command_timeout_s: Annotated[float, Field(gt=0, le=600)] = 15.0
    confirm_timeout_s: Annotated[float, Field(gt=0, le=3600)] = 20.0
    poll_s: Annotated[float, Field(gt=0, le=60)] = 0.5
    interval_s: Annotated[float, Field(gt=0, le=3600)] = 10.0
    class_rule: ClassRuleConfig = Field(default_factory=ClassRuleConfig)
    checkpoint_signal: Annotated[str, Field(pattern=r"^[A-Z0-9]+$")] | None = "USR1"
    checkpoint_grace_s: Annotated[float, Field(ge=0, le=7200)] = 300.0
    nodes: dict[str, Annotated[str, Field(min_length=1)]] = Field(min_length=1)

    @model_validator(mode="after")
    def _distinct_nodes(self) -> Self:
        names = list(self.nodes.values())
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ValueError(f"Slurm node(s) {twice} mapped to more than one GPU node")
        return self

    def slurm_settings(self) -> SlurmSettings:
        rule = ClassRule(self.class_rule.by, frozenset(self.class_rule.interruptible))
        # The adapter's fields are this section's under the same names, but for the rule.
        same = {f.name for f in fields(SlurmSettings)} - {"class_rule"}
        return SlurmSettings(**self.model_dump(include=same), class_rule=rule)

    def to_settings(self) -> SchedulerSettings:
        # A requeue runs a few commands, waits the grace, then confirms: bound it all.
        action_timeout = 4 * self.command_timeout_s + self.checkpoint_grace_s
        action_timeout += self.confirm_timeout_s
        return SchedulerSettings(
            node_map=NodeMap(dict(self.nodes), self.cluster),
            checkpoint_signal=self.checkpoint_signal,
            checkpoint_grace_s=self.checkpoint_grace_s,
            interval_s=self.interval_s,
            action_timeout_s=action_timeout,
        )
