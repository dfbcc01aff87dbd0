"""What the benchmarks over a simulated miner fleet share: their command line's fleet size
and first address, the site file, the simulator in a process of its own, and the measuring
children that print their result as one JSON line.
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

__all__ = ["RESULTS", "fleet_parser", "run_json", "simulator", "write_site"]

RESULTS = Path(__file__).parent / "results"


def fleet_parser(doc: str | None, *, devices: int, start: str) -> argparse.ArgumentParser:
    """A benchmark's command line: ``--devices`` and ``--start`` with its own defaults."""
    parser = argparse.ArgumentParser(
        description=doc, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--devices", type=int, default=devices)
    parser.add_argument("--start", default=start, help="first simulated address")
    return parser


def write_site(
    path: Path, name: str, kinds: Sequence[Mapping[str, str]], devices: int, start: str
) -> list[tuple[str, Mapping[str, str]]]:
    """A site of ``devices`` on consecutive addresses from ``start``, in equal shares of each
    kind (its site-entry keys: make, model, ...); returns each address with its kind."""
    first = ipaddress.ip_address(start)
    lines = [f"site: {name}", "devices:"]
    hosts: list[tuple[str, Mapping[str, str]]] = []
    share = -(-devices // len(kinds))
    for keys in kinds:
        count = min(share, devices - len(hosts))
        if count <= 0:
            break
        group_start = first + len(hosts)
        lines.append(f"  - make: {keys['make']}")
        lines += [f"    {key}: {value}" for key, value in keys.items() if key != "make"]
        lines += [f"    count: {count}", f"    start: {group_start}"]
        hosts += [(str(group_start + i), keys) for i in range(count)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return hosts


@contextmanager
def simulator(
    site: Path, *flags: str, ready_within_s: float | None = None, stop_within_s: float = 30
) -> Iterator[subprocess.Popen[str]]:
    """``hashpivot sim`` serving ``site`` (with ``flags``), from "ready" to the block's end."""
    process = subprocess.Popen(
        [sys.executable, "-m", "simulators.cli", str(site), *flags],
        stdout=subprocess.PIPE,
        text=True,
    )
    if not _ready(process, ready_within_s):
        process.kill()
        raise SystemExit("the simulator did not become ready")
    try:
        yield process
    finally:
        process.terminate()
        process.wait(timeout=stop_within_s)


def _ready(process: subprocess.Popen[str], within_s: float | None) -> bool:
    assert process.stdout is not None
    deadline = None if within_s is None else time.monotonic() + within_s
    for line in process.stdout:
        if line.strip() == "ready":
            return True
        if deadline is not None and time.monotonic() > deadline:
            return False
    return False


def run_json(module: str, *args: str, timeout_s: float) -> dict[str, Any]:
    """Run ``python -m module args`` and read the JSON of the last line it prints."""
    out = subprocess.run(
        [sys.executable, "-m", module, *args],
        capture_output=True,
        text=True,
        timeout=timeout_s,
        check=False,
    )
    if out.returncode != 0:
        raise SystemExit(f"{module} {' '.join(args)} failed:\n{out.stderr[-4000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]
