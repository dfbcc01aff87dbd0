"""The Slurm test cluster comes up where loopback is the only interface, as on a
network-isolated CI runner: it is started inside a fresh network namespace
(``unshare -n``) holding nothing but ``lo``."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.scheduler.slurm_cluster import missing_tools

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = """
import sys
from pathlib import Path
from tests.scheduler.slurm_cluster import SlurmCluster
cluster = SlurmCluster(Path(sys.argv[1]), nodes=2)
cluster.start(timeout=30)
try:
    print(cluster.run("sinfo", "-h", "-N", "-o", "%N %T").strip().replace("\\n", ";"))
finally:
    cluster.stop()
"""


@pytest.mark.slow
def test_the_cluster_comes_up_on_loopback_alone(tmp_path: Path) -> None:
    if missing_tools() or os.geteuid() != 0 or not (shutil.which("unshare") and shutil.which("ip")):
        pytest.skip("needs Slurm, munge, root, unshare(1) and ip(8)")
    if subprocess.run(["unshare", "-n", "true"], check=False).returncode != 0:
        pytest.skip("this host does not allow new network namespaces")
    # lo starts down in a new namespace; up, it is the only interface there.
    inside = f'ip link set lo up && exec {sys.executable} -c "$0" "$1"'

    done = subprocess.run(
        ["unshare", "-n", "sh", "-c", inside, SCRIPT, str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr[-3000:]
    assert set(done.stdout.strip().split(";")) == {"gpu01 idle", "gpu02 idle"}, done.stdout
