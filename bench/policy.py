"""Benchmark: one policy plan for a synthetic 100,000-device site.

Run as ``.venv/bin/python -m bench.policy``. Writes ``bench/results/policy.json``
and ``bench/results/policy.md``. The fleet is built once (outside the timing, as
the control loop builds it from telemetry); each timed call is a full
``plan(inputs, memory)`` with a grid event binding, so every pass does work.
"""

from __future__ import annotations

import argparse
import gc
import json
import platform
import resource
import statistics
import sys
import time
from pathlib import Path

from controller.policy import (
    AiClass,
    AiValue,
    DeviceProfile,
    Economics,
    EventKind,
    Fleet,
    FleetDevice,
    Grid,
    GridEvent,
    Hashprice,
    PolicyInputs,
    PolicySettings,
    PowerPrice,
    diff,
    plan,
)
from controller.state.domain import Health
from drivers import Make, MiningState, lookup_model

NOW = 1_750_000_000.0
MINERS = [
    (Make.ANTMINER, "S19j Pro"), (Make.ANTMINER, "S19 XP"), (Make.ANTMINER, "S21"),
    (Make.ANTMINER, "S21 XP"), (Make.WHATSMINER, "M30S++"), (Make.WHATSMINER, "M50S"),
    (Make.WHATSMINER, "M60S"), (Make("auradine"), "AT2880"),
]  # fmt: skip


def build_fleet(n: int) -> Fleet:
    miners = [DeviceProfile.for_model(lookup_model(make, name)) for make, name in MINERS]
    h200 = lookup_model(Make.GPU, "HGX H200 8-GPU")
    gpus = [DeviceProfile.for_model(h200, ai_class=ai) for ai in AiClass]
    devices = []
    for i in range(n):
        state, health = MiningState.HASHING, Health.HEALTHY
        if i % 10 == 3:
            state = MiningState.SLEEPING
        if i % 997 == 0:
            health = Health.UNREACHABLE
        last = NOW - (i % 7) * 600
        if i % 50 == 0:  # 2% are GPU nodes
            prof = gpus[i % 3]
            limit = 1600.0 if i % 150 == 50 else 5600.0
            devices.append(
                FleetDevice(
                    device_id=f"dev-{i:06d}",
                    profile=prof,
                    state=state,
                    health=health,
                    power_w=None,
                    observed_at=NOW,
                    last_state_change_at=last,
                    cycles_today=i % 5,
                    gpu_power_limit_w=limit,
                    schedulable=i % 200 != 0,
                )
            )
        else:
            devices.append(
                FleetDevice(
                    device_id=f"dev-{i:06d}",
                    profile=miners[i % len(miners)],
                    state=state,
                    health=health,
                    power_w=3000.0,
                    observed_at=NOW,
                    last_state_change_at=last,
                    cycles_today=i % 5,
                )
            )
    return Fleet(tuple(devices), NOW, "bench")


def build_inputs(fleet: Fleet, price: float) -> PolicyInputs:
    econ = Economics(
        hashprice=Hashprice(24.0, NOW, "bench"),
        power_price=PowerPrice(usd_per_mwh=price, as_of=NOW, source="bench"),
        ai_value=AiValue(
            contracted_usd_per_gpu_hour=2.0,
            interruptible_usd_per_gpu_hour=1.0,
            idle_usd_per_gpu_hour=0.0,
            as_of=NOW,
            source="bench",
        ),
    )
    event = GridEvent(
        event_id="ERS-10",
        kind=EventKind.INSTRUCTED,
        start=NOW - 60,
        end=NOW + 3600,
        as_of=NOW,
        source="bench",
        level_mw=200.0,
        deadline=NOW + 540,
    )
    grid = Grid(
        interconnect_cap_mw=400.0,
        as_of=NOW,
        source="bench",
        events=(event,),
        ramp_up_mw_per_min=5.0,
        ramp_down_mw_per_min=5.0,
    )
    return PolicyInputs(now=NOW, fleet=fleet, economics=econ, grid=grid, settings=PolicySettings())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--devices", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=9)
    parser.add_argument("--out", type=Path, default=Path("bench/results"))
    args = parser.parse_args(argv)
    fleet = build_fleet(args.devices)
    prices = [35.0 + 3 * k for k in range(args.repeats)]  # a different price every plan
    timings = []
    memory = None
    result = None
    for price in prices:
        inputs = build_inputs(fleet, price)
        gc.collect()
        start = time.perf_counter()
        result, memory = plan(inputs, memory)
        timings.append((time.perf_counter() - start) * 1e3)
    assert result is not None
    start = time.perf_counter()
    commands = diff(result, fleet)
    diff_ms = (time.perf_counter() - start) * 1e3
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    record = {
        "devices": args.devices,
        "plan_ms_median": round(statistics.median(timings), 1),
        "plan_ms_min": round(min(timings), 1),
        "plan_ms_max": round(max(timings), 1),
        "diff_ms": round(diff_ms, 1),
        "commands": len(commands),
        "peak_mb": round(peak_mb, 1),
        "repeats": args.repeats,
        "python": platform.python_version(),
        "expected_site_mw": round(result.expected_site_w / 1e6, 3),
        "limit_mw": round(result.limit_w / 1e6, 3),
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "policy.json").write_text(json.dumps(record, indent=2) + "\n")
    command = "python -m bench.policy " + " ".join(argv if argv is not None else sys.argv[1:])
    rows = "\n".join(f"| {key} | {value} |" for key, value in record.items())
    (args.out / "policy.md").write_text(
        "# Policy engine benchmark\n\n"
        "One full plan (scan, economics, grid sheds under an instructed event, restores,\n"
        "rendering) per timed call; fleet built once beforehand. Peak is the process's\n"
        "maximum resident set size, fleet included.\n\n"
        f"| metric | value |\n|---|---|\n{rows}\n\n"
        f"Produced by: `.venv/bin/{command.strip()}` on {platform.machine()}, "
        f"{platform.system()}.\n"
    )
    print(json.dumps(record))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
