"""Every signals example in the README is a valid configuration that builds its sources."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from controller.clock import SystemClock
from controller.signals.config import SignalsConfig, build_sources, build_webhooks
from controller.signals.credentials import PasswordConfig

README = Path(__file__).parents[2] / "README.md"


def test_every_signals_example_builds(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ERCOT_SUBSCRIPTION_KEY", "k")
    monkeypatch.setenv("ACME_WEBHOOK_SECRET", "s")
    # The example's password file is not on this machine: read it as a password.
    monkeypatch.setattr(PasswordConfig, "resolve", lambda self, where: "pw")
    text = README.read_text(encoding="utf-8")
    section = text.split("## Connect your site's signals", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```yaml\n(.*?)```", section, flags=re.S)
    assert len(blocks) == 9
    kinds = set()
    for block in blocks:
        config = SignalsConfig.model_validate(yaml.safe_load(block)["signals"])
        sources = build_sources(config, SystemClock())
        kinds.update(s.name for s in sources)
        kinds.update(p.source for p in build_webhooks(config))
    assert kinds == {
        "ercot_rt",
        "ercot_dam",
        "price_url",
        "hashprice_mempool",
        "hashprice_bitcoind",
        "hashprice_url",
        "webhook_acme",
        "relay",
        "four_cp",
        "openadr",
    }
