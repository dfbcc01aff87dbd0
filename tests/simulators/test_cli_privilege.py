"""Without the right to bind port 80 the command says so plainly, and --unprivileged works.

The child runs as root minus CAP_NET_BIND_SERVICE (dropped from its capability bounding
set before exec), which is exactly "not allowed to bind ports below 1024".
"""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]
SITE = """\
site: privilege
devices:
  - make: antminer
    model: S21
    start: 127.78.200.1
"""


def _unprivileged_port_start() -> int:
    try:
        return int(Path("/proc/sys/net/ipv4/ip_unprivileged_port_start").read_text())
    except (OSError, ValueError):
        return 1024


_PR_CAPBSET_DROP = 24
_CAP_NET_BIND_SERVICE = 10


def _drop_bind_service() -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(_PR_CAPBSET_DROP, _CAP_NET_BIND_SERVICE, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP) failed")


pytestmark = [
    pytest.mark.skipif(os.geteuid() != 0, reason="needs root to drop a capability"),
    pytest.mark.skipif(
        _unprivileged_port_start() <= 80, reason="this host lets anyone bind port 80"
    ),
]


def _run_without_bind_privilege(site_file: Path, *extra: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, "-m", "simulators.cli", str(site_file), "--listen", "exact", *extra],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=_drop_bind_service,  # noqa: PLW1509 - single-threaded at this point
    )


@pytest.fixture
def site_file(tmp_path: Path) -> Path:
    path = tmp_path / "site.yaml"
    path.write_text(SITE, encoding="utf-8")
    return path


def test_port_80_without_privilege_is_one_plain_message(site_file: Path) -> None:
    process = _run_without_bind_privilege(site_file)
    out, err = process.communicate(timeout=20)
    assert process.returncode == 2
    assert "Traceback" not in err
    assert "127.78.200.1:80" in err
    assert "--unprivileged" in err
    assert "ready" not in out


def test_unprivileged_serves_the_web_api_on_10080(site_file: Path) -> None:
    process = _run_without_bind_privilege(site_file, "--unprivileged")
    try:
        assert process.stdout is not None
        assert process.stdout.readline().strip() == "antminer S21 127.78.200.1"
        assert process.stdout.readline().strip() == "ready"
    finally:
        process.send_signal(signal.SIGTERM)
        _out, err = process.communicate(timeout=20)
    assert process.returncode == 0, err
