"""One simulated 8-GPU node: state, the two services it serves, and scenario verbs.

Scenario verbs are what tests call: ``start_job()``, ``stop_job()``,
``raise_xid(3, 79)``, ``lose_gpu(5)``, ``ignore_limits()``; network faults come from
the shared :class:`simulators.faults.FaultSet` (``device.faults.inject("stall")``).
The ``ack_sleep_keep_hashing`` and ``ignore_writes`` faults mean, for a GPU node, that
limit writes are acknowledged and not enforced, like :meth:`ignore_limits`.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import weakref
from collections.abc import Mapping

from simulators.clock import SimClock
from simulators.device import DeviceSnapshot, PoolEntry
from simulators.faults import FaultKind, FaultSet
from simulators.gpu.agent_api import AgentApi
from simulators.gpu.dcgm import render_metrics
from simulators.gpu.models import GpuModel, node_base_power_w
from simulators.gpu.node import AGENT_PORT, METRICS_PORT, GpuNodeOptions
from simulators.gpu.power import WorkKind
from simulators.gpu.state import GpuState
from simulators.httpserve import Handler, HttpProtocol

__all__ = ["AGENT_PORT", "METRICS_PORT", "GpuNodeDevice", "GpuNodeOptions"]

_log = logging.getLogger(__name__)

NODE_MAX_INPUT_W = 10200.0  # DGX/HGX 8-GPU maximum input (docs/protocols.md §6)


class _TrackedHttp(HttpProtocol):
    """HttpProtocol that registers its transport, so a reboot can reset it."""

    def __init__(
        self, handler: Handler, faults: FaultSet, track: weakref.WeakSet[asyncio.Transport]
    ) -> None:
        super().__init__(handler, faults)
        self._track = track

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._track.add(transport)
        super().connection_made(transport)


class GpuNodeDevice:
    """A GPU node on one loopback address: agent API and dcgm-exporter ``/metrics``."""

    make = "gpu"

    def __init__(
        self,
        address: str,
        model: GpuModel,
        clock: SimClock,
        *,
        options: GpuNodeOptions | None = None,
        seed: int = 0,
    ) -> None:
        self.options = options or GpuNodeOptions()
        self._address = address
        self.spec = model
        self.clock = clock
        self.hostname = self.options.hostname or f"gpu-{address.replace('.', '-')}"
        self._faults = FaultSet(address, self.options.faults)
        self.limits_ignored = False
        self.started_at = clock.now()
        self._dark_until = -1.0
        digest = hashlib.blake2b(f"{seed}:{address}".encode(), digest_size=6).hexdigest()
        now = clock.now()
        self.gpus = [
            GpuState(
                model=model,
                index=i,
                uuid=f"GPU-{digest[:8]}-{i:04x}-4{digest[8:11]}-8000-{int(digest, 16) + i:012x}",
                settle_s=model.power.settle_s
                if self.options.settle_s is None
                else self.options.settle_s,
                limit_w=model.tdp_w,
                load=self.options.load,
                changed_at=now,
            )
            for i in range(self.options.gpus)
        ]
        for gpu in self.gpus:
            gpu.from_w = gpu.target_w
        self._api = AgentApi(self)
        self._transports: weakref.WeakSet[asyncio.Transport] = weakref.WeakSet()

    # SimDevice -----------------------------------------------------------------------

    @property
    def address(self) -> str:
        return self._address

    @property
    def model(self) -> str:
        return self.spec.key

    @property
    def faults(self) -> FaultSet:
        return self._faults

    @property
    def pools(self) -> tuple[PoolEntry, ...]:
        return ()

    def ports(self) -> tuple[int, ...]:
        return (self.options.agent_port, self.options.metrics_port)

    def connection_protocol(self, port: int) -> asyncio.Protocol | None:
        if self._faults.has(FaultKind.REFUSE) or self.clock.now() < self._dark_until:
            return None
        if self._faults.has(FaultKind.STALL):
            return asyncio.Protocol()  # accepts, never answers
        if port == self.options.agent_port:
            return _TrackedHttp(self._api.handle, self._faults, self._transports)
        if port == self.options.metrics_port:
            return _TrackedHttp(self._api.handle_metrics, self._faults, self._transports)
        return None

    def snapshot(self) -> DeviceSnapshot:
        now = self.clock.now()
        gpu_w = sum(g.power_w(now) for g in self.gpus)
        return DeviceSnapshot(
            address=self.address,
            make=self.make,
            model=self.model,
            phase="booting" if now < self._dark_until else ("busy" if self.load() else "idle"),
            mode="capped" if any(g.limit_w < self.spec.tdp_w for g in self.gpus) else "default",
            power_w=round(gpu_w + self.base_power_w(), 1),
            hashrate_hs=0.0,
            nameplate_hs=0.0,
            nameplate_w=NODE_MAX_INPUT_W,
            fans_rpm=(),
            chip_temps_c=tuple(g.temp_c(now) for g in self.gpus),
            board_temps_c=(),
            uptime_s=round(now - self.started_at, 1),
            faults=tuple(str(f) for f in self._faults.active),
            pools=(),
        )

    def reboot(self) -> None:
        """Dark for ``boot_s``; limits are not persistent, so they come back at default."""
        now = self.clock.now()
        _log.info("%s: rebooting", self.address)
        self._dark_until = now + self.options.boot_s
        for transport in list(self._transports):
            transport.abort()  # a rebooting host resets its connections
        self.started_at = self._dark_until
        for gpu in self.gpus:
            gpu.change(now, limit_w=self.spec.tdp_w, load=0.0, kind=WorkKind.COMPUTE)
            gpu.hold_until = None  # powered off: no boost hold
            gpu.lost = False
            gpu.xid_last = 0

    # Readings --------------------------------------------------------------------------

    def load(self) -> float:
        return sum(g.load for g in self.gpus) / max(1, len(self.gpus))

    def base_power_w(self) -> float:
        return node_base_power_w(self.spec, self.load())

    def throughput(self) -> float:
        """The node's work rate as a fraction of all GPUs at full, uncapped speed."""
        return sum(g.throughput() for g in self.gpus) / max(1, len(self.gpus))

    def metrics_text(self) -> str:
        return render_metrics(self)

    # Writes (the agent API calls these) and scenario verbs -----------------------------

    def set_limits(self, targets: Mapping[int, float]) -> None:
        now = self.clock.now()
        ignore = (
            self.limits_ignored
            or self._faults.has(FaultKind.ACK_SLEEP_KEEP_HASHING)
            or self._faults.has(FaultKind.IGNORE_WRITES)
        )
        for index, watts in targets.items():
            if ignore:
                continue
            self.gpus[index].change(now, limit_w=watts)

    def start_job(
        self,
        load: float = 0.95,
        gpus: tuple[int, ...] | None = None,
        *,
        kind: WorkKind = WorkKind.COMPUTE,
    ) -> None:
        """Run work that keeps each GPU busy ``load`` of the time (0 ends the job)."""
        self._set_work(load, kind, gpus)

    def stop_job(self, gpus: tuple[int, ...] | None = None, *, keep_context: bool = False) -> None:
        """End the job; ``keep_context``: its process stays and holds the GPUs' contexts."""
        self._set_work(0.0, WorkKind.CONTEXT if keep_context else WorkKind.COMPUTE, gpus)

    def _set_work(self, load: float, kind: WorkKind, gpus: tuple[int, ...] | None) -> None:
        now = self.clock.now()
        for gpu in self.gpus:
            if gpus is None or gpu.index in gpus:
                gpu.change(now, load=load, kind=kind)

    def raise_xid(self, index: int, xid: int) -> None:
        _log.info("%s: GPU %s XID %s", self.address, index, xid)
        self.gpus[index].xid_last = xid

    def lose_gpu(self, index: int) -> None:
        """XID 79: the GPU fell off the bus; it draws nothing and answers nothing."""
        now = self.clock.now()
        gpu = self.gpus[index]
        gpu.change(now)
        gpu.lost = True
        gpu.xid_last = 79

    def ignore_limits(self, ignore: bool = True) -> None:
        self.limits_ignored = ignore
