"""The production install of docs/install.md, into a temporary root: the wheel carries
what ``hashpivot demo`` needs and the license, the systemd units verify against the
installed files, and they rate "OK" or better on ``systemd-analyze security``."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.conftest import require_tool

ROOT = Path(__file__).resolve().parents[1]
UNITS = ["hashpivot.service", "hashpivot-gpu-agent.service"]
VENV = Path("opt/hashpivot/venv")  # where docs/install.md and the units put it
# systemd-analyze security's words, best first; "OK" is the worst this project ships.
GOOD_ENOUGH = {"SAFE", "OK"}


def _run(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(a) for a in args], capture_output=True, text=True, timeout=300, check=False
    )


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    done = _run(sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", out, ROOT)
    assert done.returncode == 0, done.stderr
    (built,) = out.glob("hashpivot-*.whl")
    return built


@pytest.fixture(scope="module")
def installed(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A root with the wheel installed in /opt/hashpivot/venv and the units in place."""
    systemd_analyze = require_tool("systemd-analyze")
    root = tmp_path_factory.mktemp("root")
    venv = root / VENV
    done = _run(sys.executable, "-m", "venv", "--without-pip", venv)
    assert done.returncode == 0, done.stderr
    # The dependencies are the same as the test environment's; the units need the
    # package's own entry point, which only an install makes.
    done = _run(
        sys.executable,
        "-m",
        "pip",
        "--python",
        venv / "bin" / "python",
        "install",
        "--no-deps",
        "--no-index",
        "-q",
        wheel,
    )
    assert done.returncode == 0, done.stderr
    units = root / "etc" / "systemd" / "system"
    units.mkdir(parents=True)
    for unit in UNITS:
        shutil.copy(ROOT / "deploy" / "systemd" / unit, units / unit)
    # The targets the units name (network-online, multi-user, sysinit) come with systemd.
    system = Path(systemd_analyze).resolve().parents[1] / "lib" / "systemd" / "system"
    if not system.is_dir():
        system = Path("/usr/lib/systemd/system")
    shutil.copytree(system, root / "usr" / "lib" / "systemd" / "system", symlinks=True)
    return root


def test_the_wheel_carries_the_examples_and_the_license(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        metadata = next(n for n in names if n.endswith(".dist-info/METADATA"))
        text = archive.read(metadata).decode()
    assert "controller/examples/site-small.yaml" in names
    assert "controller/examples/hashpivot-small.yaml" in names
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)
    assert "License-Expression: Apache-2.0" in text


def test_the_build_backend_is_bounded() -> None:
    text = (ROOT / "pyproject.toml").read_text()
    requires = re.search(r'requires = \["setuptools([^"]*)"\]', text)
    assert requires, "the build backend moved"
    assert ">=77" in requires.group(1), "SPDX license strings need setuptools 77"
    assert "<" in requires.group(1), "an unbounded build backend can break every install"


def test_the_units_verify_against_the_install(installed: Path) -> None:
    assert (installed / VENV / "bin" / "hashpivot").is_file()
    done = _run("systemd-analyze", "verify", f"--root={installed}", "--man=no", *UNITS)
    assert done.returncode == 0, done.stdout + done.stderr
    assert not done.stderr.strip(), done.stderr


@pytest.mark.parametrize("unit", UNITS)
def test_the_units_rate_ok_or_better(installed: Path, unit: str) -> None:
    done = _run("systemd-analyze", "security", "--offline=yes", f"--root={installed}", unit)
    rating = re.search(r"Overall exposure level for \S+: ([\d.]+) (\w+)", done.stdout)
    assert rating, done.stdout + done.stderr
    assert rating.group(2) in GOOD_ENOUGH, f"{unit}: {rating.group(1)} {rating.group(2)}"
