"""The Slurm test cluster, started once per session when the tools are installed."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.scheduler.slurm_cluster import SlurmCluster, missing_tools


def _unavailable(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"{reason}; `make test` should have installed and allowed it")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def slurm_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SlurmCluster]:
    missing = missing_tools()
    if missing:
        _unavailable(
            f"Slurm/munge not installed ({', '.join(missing)}); "
            "`make test` installs slurm-wlm and munge"
        )
    if os.geteuid() != 0:
        _unavailable("the Slurm test cluster runs slurmd, which needs root")
    # Short path: munge and slurm sockets have a 108-byte limit.
    root = Path(tmp_path_factory.mktemp("slurm", numbered=True))
    cluster = SlurmCluster(root, nodes=4)
    cluster.start()
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture
def cluster(slurm_cluster: SlurmCluster) -> Iterator[SlurmCluster]:
    """The session's cluster, reset after the test for the next one."""
    yield slurm_cluster
    slurm_cluster.reset()
