"""The README's worked example is generated from the engine, so its numbers are true."""

from __future__ import annotations

from pathlib import Path

from tests.policy.worked_example import table

README = Path(__file__).resolve().parents[2] / "controller" / "policy" / "README.md"


def test_readme_holds_the_generated_worked_example() -> None:
    assert table() in README.read_text()
