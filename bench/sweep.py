"""Telemetry sweep benchmark: hashpivot's driver against pyasic on the same fleet.

    python -m bench.sweep --devices 1000
    python -m bench.sweep --devices 1000 --mixed   # Antminer, Whatsminer v2/v3, Auradine

A simulator process serves the fleet (each device on its own loopback address
and the standard ports, because pyasic hard-codes them); each client then runs
in its own process, one after the other, and sweeps every device once after a
warm-up sweep. Results go to bench/results/sweep.json and bench/results/sweep.md.
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).parent / "results"
MODELS = ("S19j Pro", "S19 XP", "S21", "S21 XP")
# The mixed fleet: (site-entry keys, make for the hashpivot client), in equal shares.
MIXED: tuple[tuple[dict[str, str], str], ...] = (
    ({"make": "antminer", "model": "S21"}, "antminer"),
    ({"make": "whatsminer", "model": "M50S", "api": "v2"}, "whatsminer"),
    ({"make": "whatsminer", "model": "M60S", "api": "v3"}, "whatsminer"),
    ({"make": "auradine", "model": "AT1500"}, "auradine"),
)


def write_site(path: Path, devices: int, start: str) -> list[str]:
    first = ipaddress.ip_address(start)
    groups, hosts = [], []
    per_model = -(-devices // len(MODELS))
    offset = 0
    for model in MODELS:
        count = min(per_model, devices - offset)
        if count <= 0:
            break
        group_start = first + offset
        groups.append(
            f"  - make: antminer\n    model: {model}\n    count: {count}\n"
            f"    start: {group_start}\n"
        )
        hosts += [str(group_start + i) for i in range(count)]
        offset += count
    path.write_text("site: bench\ndevices:\n" + "".join(groups), encoding="utf-8")
    return hosts


def write_mixed_site(path: Path, devices: int, start: str) -> list[str]:
    """Equal shares of each kind; host lines are ``address make`` for the client."""
    first = ipaddress.ip_address(start)
    groups, hosts = [], []
    share = -(-devices // len(MIXED))
    offset = 0
    for keys, make in MIXED:
        count = min(share, devices - offset)
        if count <= 0:
            break
        group_start = first + offset
        fields = "".join(f"    {k}: {v}\n" for k, v in keys.items() if k != "make")
        groups.append(
            f"  - make: {keys['make']}\n{fields}    count: {count}\n    start: {group_start}\n"
        )
        hosts += [f"{group_start + i} {make}" for i in range(count)]
        offset += count
    path.write_text("site: bench-mixed\ndevices:\n" + "".join(groups), encoding="utf-8")
    return hosts


def start_simulator(site: Path) -> subprocess.Popen[str]:
    # Speed 1: the fleet is steady-state hashing for the whole run.
    process = subprocess.Popen(
        [sys.executable, "-m", "simulators.cli", str(site)], stdout=subprocess.PIPE, text=True
    )
    assert process.stdout is not None
    deadline = time.monotonic() + 120
    for line in process.stdout:
        if line.strip() == "ready":
            return process
        if time.monotonic() > deadline:
            break
    process.kill()
    raise SystemExit("the simulator did not become ready")


def run_client(client: str, hosts_file: Path) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, "-m", "bench.sweep_client", client, str(hosts_file)],
        capture_output=True,
        text=True,
        timeout=600,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--devices", type=int, default=1000)
    parser.add_argument("--start", default="127.10.0.1", help="first simulated address")
    parser.add_argument("--name", default=None, help="results file stem")
    parser.add_argument(
        "--mixed",
        action="store_true",
        help="Antminer, Whatsminer v2/v3 and Auradine in equal shares",
    )
    args = parser.parse_args()
    name = args.name or ("sweep_mixed" if args.mixed else "sweep")
    with tempfile.TemporaryDirectory() as tmp:
        site, hosts_file = Path(tmp, "site.yaml"), Path(tmp, "hosts.txt")
        writer = write_mixed_site if args.mixed else write_site
        hosts = writer(site, args.devices, args.start)
        hosts_file.write_text("\n".join(hosts), encoding="utf-8")
        simulator = start_simulator(site)
        try:
            ours = run_client("hashpivot", hosts_file)
            theirs = run_client("pyasic", hosts_file)
        finally:
            simulator.terminate()
            simulator.wait(timeout=30)
    n = args.devices
    result = {
        "devices": n,
        "hashpivot_wall_s": round(ours["wall_s"], 3),
        "pyasic_wall_s": round(theirs["wall_s"], 3),
        "hashpivot_cpu_s_per_device": ours["cpu_s"] / n,
        "pyasic_cpu_s_per_device": theirs["cpu_s"] / n,
        "cpu_ratio": round(theirs["cpu_s"] / max(ours["cpu_s"], 1e-9), 2),
        "hashpivot_peak_mb": round(ours["peak_rss_mb"], 1),
        "pyasic_peak_mb": round(theirs["peak_rss_mb"], 1),
        "hashpivot_failed": ours["failed"],
        "pyasic_failed": theirs["failed"],
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"{name}.json").write_text(json.dumps(result, indent=2) + "\n")
    if args.mixed:
        kinds = ", ".join(
            f"{k['make']} {k['model']}" + (f" API {k['api']}" if "api" in k else "")
            for k, _ in MIXED
        )
        heading = f"### Telemetry sweep, {n} simulated miners, mixed fleet ({kinds})"
        command = f"`python -m bench.sweep --devices {n} --mixed`"
    else:
        heading = f"### Telemetry sweep, {n} simulated Antminers"
        command = f"`python -m bench.sweep --devices {n}` (`make bench`)"
    table = (
        f"{heading}\n\n"
        f"Command: {command}\n\n"
        "| client | wall s | CPU ms / device | peak RSS MB | failed |\n|---|---|---|---|---|\n"
        f"| hashpivot | {result['hashpivot_wall_s']} | "
        f"{result['hashpivot_cpu_s_per_device'] * 1e3:.2f} | {result['hashpivot_peak_mb']} | "
        f"{result['hashpivot_failed']} |\n"
        f"| pyasic 0.79.0 get_data | {result['pyasic_wall_s']} | "
        f"{result['pyasic_cpu_s_per_device'] * 1e3:.2f} | {result['pyasic_peak_mb']} | "
        f"{result['pyasic_failed']} |\n\n"
        f"CPU ratio (pyasic / hashpivot): **{result['cpu_ratio']}x**\n"
    )
    (RESULTS / f"{name}.md").write_text(table)
    print(table)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
