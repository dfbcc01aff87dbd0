"""Benchmarks of two revisions, side by side in one run, as ratios.

    python -m bench.side_by_side BEFORE AFTER [--bench sweep,policy,restart] [--rounds 2]

Each revision is checked out into a temporary git worktree and its own benchmarks run from
it (``PYTHONPATH`` puts its tree first), alternating before, after, before, after, so that
the machine's drift falls on both. Only the figures named below are compared; each
benchmark's full output stays in the worktree. Writes bench/results/side_by_side.{json,md}.
Run it where nothing else runs, or in its own network namespace:
``unshare -n sh -c 'ip link set lo up && python -m bench.side_by_side ...'`` (the sweep
benchmark's shared simulator binds 0.0.0.0).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

# benchmark -> (its command-line arguments, the figures compared, lower is better for all)
BENCHES: dict[str, tuple[list[str], tuple[str, ...]]] = {
    "machine": ([], ("reference_ms",)),
    "sweep": (["--devices", "1000"], ("hashpivot_cpu_s_per_device", "hashpivot_peak_mb")),
    "policy": ([], ("plan_ms_median", "diff_ms", "peak_mb")),
    "restart": ([], ("serve_s", "serve_peak_mb", "replay_needed_s")),
}


def _worktree(rev: str, folder: Path) -> Path:
    path = folder / rev.replace("/", "_")
    subprocess.run(
        ["git", "-C", str(ROOT), "worktree", "add", "--detach", "--force", str(path), rev],
        check=True,
        capture_output=True,
    )
    return path


def _run(tree: Path, name: str) -> dict[str, Any]:
    args, _ = BENCHES[name]
    env = {**os.environ, "PYTHONPATH": str(tree)}
    subprocess.run(
        [sys.executable, "-m", f"bench.{name}", *args],
        cwd=tree,
        env=env,
        check=True,
        capture_output=True,
        timeout=1800,
    )
    return json.loads((tree / "bench" / "results" / f"{name}.json").read_text())  # type: ignore[no-any-return]


def compare(before: str, after: str, names: list[str], rounds: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        trees = {rev: _worktree(rev, Path(tmp)) for rev in (before, after)}
        try:
            figures: dict[str, dict[str, dict[str, list[float]]]] = {}
            for name in names:
                _, keys = BENCHES[name]
                per_rev: dict[str, dict[str, list[float]]] = {
                    rev: {key: [] for key in keys} for rev in trees
                }
                for _ in range(rounds):
                    for rev, tree in trees.items():
                        result = _run(tree, name)
                        for key in keys:
                            per_rev[rev][key].append(float(result[key]))
                figures[name] = per_rev
        finally:
            for tree in trees.values():
                subprocess.run(
                    ["git", "-C", str(ROOT), "worktree", "remove", "--force", str(tree)],
                    check=False,
                    capture_output=True,
                )
    rows = []
    for name, per_rev in figures.items():
        for key in per_rev[before]:
            was = statistics.median(per_rev[before][key])
            now = statistics.median(per_rev[after][key])
            rows.append(
                {
                    "bench": name,
                    "figure": key,
                    "before": was,
                    "after": now,
                    "after_over_before": round(now / was, 3) if was else None,
                }
            )
    return {"before": before, "after": after, "rounds": rounds, "rows": rows}


def markdown(result: dict[str, Any], command: str) -> str:
    lines = [
        f"### Side by side: `{result['before']}` against `{result['after']}`",
        "",
        f"Command: `{command}` (median of {result['rounds']} alternating rounds; lower is "
        "better for every figure; `machine` is the speed reference, so its ratio is the "
        "drift between the two halves)",
        "",
        "| benchmark | figure | before | after | after / before |",
        "|---|---|---|---|---|",
    ]
    for row in result["rows"]:
        lines.append(
            f"| {row['bench']} | {row['figure']} | {row['before']:g} | {row['after']:g} "
            f"| {row['after_over_before']} |"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("before", help="git revision measured first (e.g. a tag or commit)")
    parser.add_argument("after", help="git revision compared with it (e.g. HEAD)")
    parser.add_argument(
        "--bench", default=",".join(BENCHES), help=f"comma-separated, of {', '.join(BENCHES)}"
    )
    parser.add_argument("--rounds", type=int, default=2, help="alternating rounds per benchmark")
    args = parser.parse_args(argv)
    names = [n for n in args.bench.split(",") if n]
    unknown = [n for n in names if n not in BENCHES]
    if unknown:
        parser.error(f"unknown benchmark {unknown[0]!r} (one of {', '.join(BENCHES)})")
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")
    result = compare(args.before, args.after, names, args.rounds)
    command = "python -m bench.side_by_side " + " ".join(argv or sys.argv[1:])
    out = HERE / "results"
    (out / "side_by_side.json").write_text(json.dumps(result, indent=2) + "\n")
    (out / "side_by_side.md").write_text(markdown(result, command))
    print(markdown(result, command))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
