"""The replay's site: every device moved onto 127.172.x.x, the controller's config moved
with it, and a second replay beside a running one on other addresses."""

from __future__ import annotations

import socket
from pathlib import Path

from controller.hil.site import build_hil_site
from tests.hil.site import write


def _build(tmp_path: Path, name: str) -> tuple[list[str], dict[str, str]]:
    site, config, _ = write(tmp_path)
    hil = build_hil_site(site, config, speed=150, listen_port=1, journal=tmp_path / name)
    hosts = [h for group in hil.config.devices for h in group.hosts()]
    return hosts, hil.device_ids


def test_devices_move_onto_127_172_and_keep_their_backtest_ids(tmp_path: Path) -> None:
    hosts, ids = _build(tmp_path, "a.sqlite")
    assert len(hosts) == 7
    assert all(h.startswith("127.172.") for h in hosts)
    assert sorted(ids.values()) == sorted(f"127.172.200.{n}" for n in (1, 2, 11, 12, 21, 22, 31))
    assert set(ids) == set(hosts)


def test_a_second_replay_steps_over_the_addresses_a_running_one_holds(tmp_path: Path) -> None:
    hosts, _ = _build(tmp_path, "a.sqlite")
    with socket.socket() as held:  # what the running replay's first miner listens on
        held.bind((hosts[0], 4028))
        others, _ = _build(tmp_path, "b.sqlite")
    assert not set(hosts) & set(others)
    assert all(h.startswith("127.172.") for h in others)
