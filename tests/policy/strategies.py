"""Hypothesis strategies: small mixed sites with every kind of device state."""

from __future__ import annotations

from hypothesis import strategies as st

from controller.policy import AiClass, FleetDevice
from controller.state.domain import Health
from drivers import MiningState
from tests.policy.site import T0, gpu, miner

MINER_MODELS = ("S19j Pro", "S19 XP", "S21", "M30S++", "M60S")
KINDS = (*MINER_MODELS, "gpu-contracted", "gpu-interruptible", "gpu-idle")


@st.composite
def devices(
    draw: st.DrawFn, *, max_size: int = 24, pins: bool = True, unknown: bool = True
) -> list[FleetDevice]:
    n = draw(st.integers(1, max_size))
    out: list[FleetDevice] = []
    for i in range(n):
        kind = draw(st.sampled_from(KINDS))
        health = Health.HEALTHY
        if unknown and draw(st.integers(0, 9)) == 0:
            health = Health.UNREACHABLE
        last = T0 - draw(st.sampled_from([60, 600, 3600])) if pins else None
        cycles = draw(st.integers(0, 7)) if pins else 0
        if kind.startswith("gpu"):
            ai = AiClass(kind.removeprefix("gpu-"))
            level = draw(st.sampled_from(["full", "capped", "drained"]))
            if ai is AiClass.IDLE and level == "capped":
                level = "full"
            out.append(gpu(f"d{i:03d}", ai, level, health=health, last_change=last, cycles=cycles))
        else:
            state = draw(st.sampled_from([MiningState.HASHING, MiningState.SLEEPING]))
            out.append(
                miner(f"d{i:03d}", kind, state, health=health, last_change=last, cycles=cycles)
            )
    return out
