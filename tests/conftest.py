"""Shared test helpers: free ports, tool lookup."""

from __future__ import annotations

import os
import shutil
import socket

import pytest


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
