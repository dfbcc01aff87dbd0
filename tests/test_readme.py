"""The README's worked example is the policy engine's own output, not hand-written numbers."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).parents[1]


def test_readme_carries_the_generated_worked_example() -> None:
    generated = (ROOT / "controller/policy/README.md").read_text()
    table = [line for line in generated.splitlines() if line.startswith("| ")]
    readme = (ROOT / "README.md").read_text()
    assert table, "the policy README lost its worked-example table"
    missing = [line for line in table if line not in readme]
    assert not missing, f"README.md is out of date with controller/policy/README.md: {missing[:2]}"


def test_readme_gives_the_two_commands() -> None:
    readme = (ROOT / "README.md").read_text()
    assert "make demo" in readme
    assert "make test" in readme
