"""A GPU node as a :class:`drivers.base.MinerDriver`: read from the agent or dcgm-exporter.

Reads come from the agent (``GET /v1/node``, port ``agent``, 9862) or from
dcgm-exporter (``/metrics``, port ``metrics``, 9400), whichever the site runs
(``source``). Writes always go through the agent with its bearer token, and are
confirmed by reading the enforced limits back from the agent.

``Telemetry`` is the miners' shape: for a GPU node ``power_w`` is the GPUs' draw,
``power_limit_w`` the sum of enforced limits, ``chip_temps_c`` one per GPU, and the
state is HASHING while the node answers (it is serving AI work or ready to) and
FAULT when a GPU is lost. Per-GPU detail is in :meth:`GpuNodeDriver.read_node`.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Literal

from drivers._device_base import DeviceBase
from drivers.errors import DriverError, UnsupportedError, WriteNotApplied
from drivers.gpu.make import SPEC
from drivers.gpu.parse import node_from_agent, node_from_dcgm
from drivers.gpu.transport import NodeHttp
from drivers.gpu.types import GpuReading, NodeReading
from drivers.models import ModelSpec
from drivers.settings import Credentials, DriverSettings
from drivers.types import (
    Command,
    CommandOutcome,
    Control,
    DeviceEndpoint,
    DeviceError,
    DeviceInfo,
    MiningState,
    RestoreGpuPowerLimits,
    SetGpuPowerLimit,
    Telemetry,
)

__all__ = ["AGENT_PORT", "METRICS_PORT", "GpuCommand", "GpuNodeDriver"]

AGENT_PORT = 9862
METRICS_PORT = 9400
GpuCommand = SetGpuPowerLimit | RestoreGpuPowerLimits
Source = Literal["agent", "dcgm"]
_TOLERANCE_W = 1.0  # NVML rounds limits to whole watts on some drivers


def model_name(gpus: tuple[GpuReading, ...]) -> str:
    """The model table's name for a node: ``"HGX H200 8-GPU"``; else ``"8x <GPU name>"``."""
    names = {g.name for g in gpus if g.name}
    name = names.pop() if len(names) == 1 else " / ".join(sorted(names)) or "unknown GPU"
    for family in ("H200", "H100"):
        if family in name.upper() and len(gpus) == 8:
            return f"HGX {family} 8-GPU"
    return f"{len(gpus)}x {name}"


class GpuNodeDriver(DeviceBase):
    """One GPU node. ``token`` is the agent's bearer token (writes only)."""

    make = SPEC.make
    log_prefix = "gpu "

    def __init__(
        self,
        endpoint: DeviceEndpoint,
        *,
        token: str | None = None,
        credentials: Credentials | None = None,
        source: Source = "agent",
        settings: DriverSettings | None = None,
    ) -> None:
        self.source: Source = source
        if token is None and credentials is not None:
            token = credentials.password  # a config's credentials carry the agent's token
        self._token = token
        super().__init__(endpoint, credentials=credentials, settings=settings)

    def _open(self) -> None:
        self._http = NodeHttp(self.endpoint.host, self._settings, self._token)
        self._agent_port = self.endpoint.port("agent", AGENT_PORT)
        self._metrics_port = self.endpoint.port("metrics", METRICS_PORT)

    @property
    def controls(self) -> frozenset[Control]:
        return frozenset({Control.GPU_POWER_LIMIT})  # DRAIN belongs to the scheduler adapter

    async def identify(self) -> DeviceInfo:
        node = await self._read_node()
        model = model_name(node.gpus)
        self._lookup_spec(model)
        self._info = DeviceInfo(
            make=SPEC.make, model=model, firmware=node.driver_version, hostname=node.hostname
        )
        return self._info

    async def _read_node(self, source: Source | None = None) -> NodeReading:
        if (source or self.source) == "dcgm":
            text = await self._http.text(self._metrics_port, "/metrics")
            return node_from_dcgm(self.endpoint.host, text)
        body = await self._http.json("GET", self._agent_port, "/v1/node")
        node = node_from_agent(self.endpoint.host, body)
        agent_s = self._http.server_timing.get("agent")
        return node if agent_s is None else replace(node, agent_s=agent_s)

    async def read_node(self) -> NodeReading:
        """Every GPU's reading from the configured source; logs failures once per kind."""
        try:
            node = await self._read_node()
        except DriverError as exc:
            self._note_failure(exc, logging.WARNING)
            raise
        self._note_recovery(logging.INFO)
        return node

    async def read(self) -> Telemetry:
        await self._identified()
        return telemetry(
            await self.read_node(),
            taken_at=self._settings.clock.time(),
            outside_gpus_w=outside_gpus_w(self._spec),
        )

    async def apply(self, command: Command | GpuCommand) -> CommandOutcome:
        if isinstance(command, SetGpuPowerLimit):
            return await self._set_limits(command)
        if isinstance(command, RestoreGpuPowerLimits):
            return await self._restore(command)
        raise UnsupportedError(
            self.endpoint.host,
            f"a GPU node takes power limits, not {type(command).__name__}; "
            "drain and resume go through the scheduler adapter",
        )

    async def _set_limits(self, command: SetGpuPowerLimit) -> CommandOutcome:
        if command.watts_per_gpu is not None:
            body: dict[str, object] = {"per_gpu_w": command.watts_per_gpu}
        else:
            body = {"gpus": {str(i): w for i, w in command.per_gpu}}
        await self._http.json("PUT", self._agent_port, "/v1/power-limit", body)
        node = await self._read_node("agent")  # confirm from the agent, whatever the read source
        wanted = command.targets(len(node.gpus))
        return self._confirm(command, node, wanted)

    async def _restore(self, command: RestoreGpuPowerLimits) -> CommandOutcome:
        await self._http.json("DELETE", self._agent_port, "/v1/power-limit")
        node = await self._read_node("agent")
        wanted = {
            g.index: g.power_limit_default_w
            for g in node.gpus
            if g.power_limit_default_w is not None
        }
        return self._confirm(command, node, wanted)

    def _confirm(
        self, command: GpuCommand, node: NodeReading, wanted: dict[int, float]
    ) -> CommandOutcome:
        enforced = {g.index: g.power_limit_w for g in node.gpus}
        wrong: dict[int, float | None] = {}
        for index, watts in wanted.items():
            got = enforced.get(index)
            if got is None or abs(got - watts) > _TOLERANCE_W:
                wrong[index] = got
        if wrong:
            detail = ", ".join(
                f"GPU {i}: {wanted[i]:g} W asked, {w} enforced" for i, w in wrong.items()
            )
            raise WriteNotApplied(self.endpoint.host, f"power limit read back wrong: {detail}")
        summary = ", ".join(f"{i}={w:g}" for i, w in sorted(wanted.items()))
        self._log.info("power limits now %s W", summary)
        return CommandOutcome(command=command, applied=True, detail=f"enforced {summary} W")

    async def close(self) -> None:
        await self._http.close()


def outside_gpus_w(spec: ModelSpec | None) -> float:
    """What a running node draws besides its GPUs, as its model row implies: the node's
    maximum input less the GPUs' top limits (CPUs, fans, NICs, NVSwitches).

    NVML measures only the GPUs, while the meter and the policy's levels see the whole node.
    Counted at its GPUs alone, a node's other draw fell into the site's "other load", and
    the policy, whose levels already hold it, counted it twice and shed contracted work
    it did not need to. A drained node counts high by this figure: the safe side.
    """
    if spec is None or spec.power_target_max_w is None:
        return 0.0
    return max(0.0, spec.nameplate_w - spec.power_target_max_w)


def telemetry(node: NodeReading, *, taken_at: float, outside_gpus_w: float = 0.0) -> Telemetry:
    """``power_w`` is the node's draw: its GPUs as read plus ``outside_gpus_w``;
    ``taken_at`` from the controller's clock (DriverSettings.clock)."""
    errors: list[DeviceError] = []
    for gpu in node.gpus:
        if gpu.lost:
            errors.append(DeviceError("gpu_lost", f"GPU {gpu.index} fell off the bus"))
        if gpu.xid_last:
            errors.append(
                DeviceError(f"xid_{gpu.xid_last}", f"GPU {gpu.index}: XID {gpu.xid_last}")
            )
        if gpu.ecc_uncorrected:
            errors.append(
                DeviceError("ecc_uncorrected", f"GPU {gpu.index}: {gpu.ecc_uncorrected} DBE")
            )
    temps = tuple(g.temp_c for g in node.gpus if g.temp_c is not None)
    lost = any(g.lost for g in node.gpus)
    return Telemetry(
        taken_at=taken_at,
        mining_state=MiningState.FAULT if lost else MiningState.HASHING,
        hashrate_hs=None,
        power_w=None if node.gpu_power_w is None else node.gpu_power_w + outside_gpus_w,
        power_limit_w=node.gpu_power_limit_w,
        chip_temps_c=temps,
        errors=tuple(errors),
    )
