"""Assemble bench/RESULTS.md from the per-benchmark tables under bench/results/.

Each benchmark writes ``results/<name>.json`` (machine-readable) and
``results/<name>.md`` (its table and the command that produced it); this joins
the tables in a fixed order so the file reads the same after any re-run.
"""

from __future__ import annotations

import platform
from pathlib import Path

HERE = Path(__file__).parent
ORDER = (
    "machine", "sweep", "sweep_mixed", "gpu_sweep", "policy", "curtail", "restart", "backtest",
    "web",
)  # fmt: skip

HEADER = """# Benchmark results

Measured on the project's standard machine (2 cores, 24 GiB), simulators in a separate
process on loopback. These machines are noisy, so every comparison is made side by side in
one run and reported as a ratio. Re-run everything with `make bench` (`make bench
BENCH=machine,policy` for some); each section names its own command. The machine-speed
reference below is measured in the same run: scale absolute figures by it.
"""


def main() -> int:
    sections = []
    names = [name for name in ORDER if (HERE / "results" / f"{name}.md").exists()]
    names += sorted(p.stem for p in (HERE / "results").glob("*.md") if p.stem not in ORDER)
    for name in names:
        sections.append((HERE / "results" / f"{name}.md").read_text().strip())
    footer = f"\n\n_Python {platform.python_version()} on {platform.machine()}._\n"
    (HERE / "RESULTS.md").write_text(HEADER + "\n" + "\n\n".join(sections) + footer)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
