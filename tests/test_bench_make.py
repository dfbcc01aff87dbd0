"""`make bench` re-runs every benchmark whose results RESULTS.md shows, and the
machine-speed reference that scales their absolute figures is measured in the same run."""

from __future__ import annotations

import re
from pathlib import Path

from bench import machine

ROOT = Path(__file__).resolve().parents[1]
MAKEFILE = (ROOT / "Makefile").read_text()
# Results that need hardware `make bench` does not have (a real GPU node), and the
# comparison of two revisions, which is its own command (python -m bench.side_by_side).
ELSEWHERE = {"gpu_read_path", "side_by_side"}


def _cases() -> list[str]:
    recipe = MAKEFILE[MAKEFILE.index("\nbench:") :]
    return re.findall(r"^\t  ([a-z_]+)\) ", recipe, flags=re.M)


def test_make_bench_runs_every_benchmark_in_results() -> None:
    shown = {p.stem for p in (ROOT / "bench" / "results").glob("*.md")}
    missing = shown - set(_cases()) - ELSEWHERE
    assert not missing, f"make bench does not re-run {sorted(missing)}"
    default = re.search(r"^BENCHES := (.*)$", MAKEFILE, flags=re.M)
    assert default
    assert set(_cases()) == set(default.group(1).split())


def test_the_machine_reference_comes_first() -> None:
    default = re.search(r"^BENCHES := (.*)$", MAKEFILE, flags=re.M)
    assert default
    assert default.group(1).split()[0] == "machine"
    assert "Machine-speed reference" in (ROOT / "bench" / "RESULTS.md").read_text()


def test_the_reference_loop_is_fixed_work() -> None:
    assert machine._loop() == machine._loop()  # deterministic: the same work every time
    assert machine.reference_ms(rounds=1) > 0
