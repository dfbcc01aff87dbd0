"""deploy/Containerfile and deploy/compose.yaml, checked without Docker (which cannot run
here): the image is built from everything the package build and the demo need, images
are pinned, and the simulated site keeps off the host's network."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
DEPLOY = ROOT / "deploy"
CONTAINERFILE = (DEPLOY / "Containerfile").read_text()
COMPOSE: dict[str, Any] = yaml.safe_load((DEPLOY / "compose.yaml").read_text())


def _copied() -> set[str]:
    copied: set[str] = set()
    for line in CONTAINERFILE.splitlines():
        if line.startswith("COPY "):
            copied.update(line.split()[1:-1])
    return copied


def test_the_image_gets_what_the_build_and_the_demo_need() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    needed = {"pyproject.toml", project["project"]["readme"], *project["project"]["license-files"]}
    needed |= {p.rstrip("*") for p in project["tool"]["setuptools"]["packages"]["find"]["include"]}
    missing = needed - _copied()
    assert not missing, f"the Containerfile does not copy {sorted(missing)}"
    # The demo's site and config are package data, so `pip install .` puts them in the image.
    data = project["tool"]["setuptools"]["package-data"]["controller"]
    assert "examples/*.yaml" in data
    assert list((ROOT / "controller" / "examples").glob("*.yaml"))


def test_images_are_pinned() -> None:
    base = re.search(r"^FROM (\S+)", CONTAINERFILE, flags=re.M)
    assert base
    images = [base.group(1)] + [
        s["image"] for s in COMPOSE["services"].values() if "image" in s and "build" not in s
    ]
    for image in images:
        name, _, tag = image.rpartition(":")
        assert name, f"{image} is not pinned"
        assert tag not in {"", "latest"}, f"{image} is not pinned"
        assert re.search(r"\d+\.\d+", tag), f"{image}: pin a release, not a moving tag"


def test_the_site_runs_on_its_own_network() -> None:
    services = COMPOSE["services"]
    for name, service in services.items():
        mode = service.get("network_mode")
        assert mode != "host", f"{name} uses the host's network"
        if mode is not None:
            owner = mode.removeprefix("service:")
            assert mode.startswith("service:"), f"{name}: {mode}"
            assert owner in services, f"{name}: {mode}"
            assert "ports" not in service, f"{name}: ports belong to the namespace's owner"
    simulator = services["simulator"]
    assert simulator.get("networks"), "the simulator needs a network of its own"
    for network in simulator["networks"]:
        assert network in COMPOSE["networks"]
    for published in simulator.get("ports", []):
        assert published.startswith("127.0.0.1:"), f"{published} is open beyond the host"
        assert published.split(":")[1] not in {"80", "502", "4028"}


def test_compose_mounts_exist() -> None:
    for service in COMPOSE["services"].values():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("."):
                assert (DEPLOY / source).exists(), volume
