"""Shared test helpers: free ports, tool lookup."""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import sys
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from simulators import Fleet, load_site_dict

# The command line, as this interpreter runs it (no reliance on a console script on PATH).
HASHPIVOT = (sys.executable, "-m", "controller.cli")


async def hashpivot_run(config: Path, *args: str, **kwargs: Any) -> asyncio.subprocess.Process:
    """``hashpivot run CONFIG ARGS`` as a child process; ``kwargs`` go to
    :func:`asyncio.create_subprocess_exec` (stdout, stderr, env)."""
    return await asyncio.create_subprocess_exec(*HASHPIVOT, "run", str(config), *args, **kwargs)


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def require_tool(name: str) -> str:
    """The path of a system tool the tests start for real.

    ``make test`` installs it; a developer's run without it skips, but CI fails,
    so a missing install step cannot hide behind a green run.
    """
    path = shutil.which(name)
    if path is None:
        if os.environ.get("CI"):
            pytest.fail(f"{name} is not installed; `make test` should have installed it")
        pytest.skip(f"{name} is not installed (make test installs it)")
    return path


@asynccontextmanager
async def antminers(site: str, prefix: str, models: Sequence[str]) -> AsyncIterator[Fleet]:
    """One simulated Antminer of each of ``models``, on ``prefix``.1, .2, ... in turn."""
    devices = [
        {"make": "antminer", "model": model, "count": 1, "start": f"{prefix}.{i + 1}"}
        for i, model in enumerate(models)
    ]
    loaded = load_site_dict({"site": site, "devices": devices})
    async with Fleet(loaded, speed=50.0, listen="exact") as fleet:
        yield fleet
