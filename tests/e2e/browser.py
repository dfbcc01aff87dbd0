"""A real headless Chromium (Debian's chromium and chromium-driver) driven by Selenium.

The system driver at /usr/bin/chromedriver is used as is: nothing is downloaded, and
the browser runs with a fresh profile and no background traffic of its own.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.conftest import require_tool

FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-dev-shm-usage", "--window-size=1400,2200",
)  # fmt: skip


def chromium(profile: Path) -> object:
    """A started Chrome WebDriver; the caller quits it."""
    webdriver = pytest.importorskip("selenium.webdriver")
    binary = shutil.which("chromium") or require_tool("chromium")
    driver_path = require_tool("chromedriver")
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for flag in FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={profile}")
    service = webdriver.ChromeService(executable_path=driver_path)
    return webdriver.Chrome(options=options, service=service)
