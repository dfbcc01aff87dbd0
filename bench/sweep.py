"""Telemetry sweep benchmark: hashpivot's driver against pyasic on the same fleet.

    python -m bench.sweep --devices 1000
    python -m bench.sweep --devices 1000 --mixed   # Antminer, Whatsminer v2/v3, Auradine

A simulator process serves the fleet (each device on its own loopback address
and the standard ports, because pyasic hard-codes them); each client then runs
in its own process, one after the other, and sweeps every device once after a
warm-up sweep. Results go to bench/results/sweep.json and bench/results/sweep.md.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

from bench import simulated
from bench.simulated import RESULTS

MODELS = ("S19j Pro", "S19 XP", "S21", "S21 XP")
# The mixed fleet, in equal shares: each kind's site-entry keys. The hashpivot client
# reads each host with the driver of its site file's make.
MIXED: tuple[dict[str, str], ...] = (
    {"make": "antminer", "model": "S21"},
    {"make": "whatsminer", "model": "M50S", "api": "v2"},
    {"make": "whatsminer", "model": "M60S", "api": "v3"},
    {"make": "auradine", "model": "AT1500"},
)


def write_site(path: Path, devices: int, start: str) -> list[str]:
    kinds = [{"make": "antminer", "model": model} for model in MODELS]
    return [address for address, _ in simulated.write_site(path, "bench", kinds, devices, start)]


def write_mixed_site(path: Path, devices: int, start: str) -> list[str]:
    """Equal shares of each kind; host lines are ``address make`` for the client."""
    hosts = simulated.write_site(path, "bench-mixed", MIXED, devices, start)
    return [f"{address} {keys['make']}" for address, keys in hosts]


def run_client(client: str, hosts_file: Path) -> dict[str, Any]:
    return simulated.run_json("bench.sweep_client", client, str(hosts_file), timeout_s=600)


def main() -> int:
    parser = simulated.fleet_parser(__doc__, devices=1000, start="127.10.0.1")
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
        # Speed 1: the fleet is steady-state hashing for the whole run.
        with simulated.simulator(site, ready_within_s=120):
            ours = run_client("hashpivot", hosts_file)
            theirs = run_client("pyasic", hosts_file)
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
            f"{k['make']} {k['model']}" + (f" API {k['api']}" if "api" in k else "") for k in MIXED
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
