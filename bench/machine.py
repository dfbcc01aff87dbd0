"""The machine-speed reference: a fixed pure-Python loop, timed on this machine now.

    python -m bench.machine            (run first by `make bench`)

Absolute figures in RESULTS.md (milliseconds, seconds, CPU per device) depend on the
machine; the ratios beside them do not. A reader on another machine runs this (a few
seconds) and scales an absolute figure by ``their reference / the reference here``: the
issue that asked for this saw the policy benchmark take 245-291 ms on a slower machine of
the same size against 33.6 ms in the table, with no way to tell the machine from the code.

The loop is integer and float arithmetic, dict and list work and function calls, the mix
the policy scan and the drivers' parsers spend their time on. It never changes: a new loop
would be a new reference, and old results could no longer be compared.

Other benchmarks call :func:`reference_ms` to record the reference beside their own
figures in the same process. Writes bench/results/machine.{json,md}.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import time
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).parent / "results"
ROUNDS = 7
_N = 200_000


def _loop() -> int:
    """The fixed work. Do not change it (see the module docstring)."""
    table: dict[int, float] = {}
    items: list[tuple[int, float]] = []
    total = 0
    for i in range(_N):
        x = (i * 2654435761) % 1_000_003
        y = x * 0.5 + 1.25
        table[x % 4096] = y
        if x & 1:
            items.append((x, y))
        total += len(str(x)) + int(y) % 7
    items.sort()
    return total + len(table) + len(items)


def reference_ms(rounds: int = ROUNDS) -> float:
    """Median wall time of the fixed loop, in milliseconds (after one warm-up round)."""
    _loop()
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        _loop()
        times.append((time.perf_counter() - started) * 1e3)
    return round(statistics.median(times), 1)


def record() -> dict[str, Any]:
    return {
        "reference_ms": reference_ms(),
        "rounds": ROUNDS,
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }


def main() -> int:
    data = record()
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "machine.json").write_text(json.dumps(data, indent=2) + "\n")
    (RESULTS / "machine.md").write_text(
        "### Machine-speed reference\n\n"
        "Command: `python -m bench.machine` (`make bench` runs it first, in the same run as the"
        " others)\n\n"
        "| fixed pure-Python loop, median of 7 | Python | CPUs | measured (UTC) |\n"
        "|---|---|---|---|\n"
        f"| **{data['reference_ms']} ms** | {data['python']} on {data['machine']} | "
        f"{data['cpus']} | {data['at']} |\n\n"
        "To read an absolute figure below on another machine, run `python -m bench.machine`"
        " there and scale the figure by (that reference / this one). Ratios need no scaling.\n"
    )
    print(json.dumps(data))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
