"""The README as a new user meets it: its worked example is the policy engine's output,
every address it names is on the example site, every command it names exists, and the
commands it gives run against the simulated site as written."""

from __future__ import annotations

import asyncio
import json
import os
import re
import shlex
import signal
import subprocess
from pathlib import Path

import pytest

from simulators import load_site
from tests.conftest import HASHPIVOT, free_port, require_tool

ROOT = Path(__file__).parents[1]
README = (ROOT / "README.md").read_text()
SITE = ROOT / "deploy" / "examples" / "site-small.yaml"
CONFIG = ROOT / "deploy" / "examples" / "hashpivot-small.yaml"
TOKEN = "readme-token"


def _code() -> list[str]:
    """Every code span and code block of the README, but blocks of output (```text)."""
    blocks = re.findall(r"```(?!text)[a-z]*\n(.*?)```", README, flags=re.S)
    spans = re.findall(r"`([^`\n]+)`", re.sub(r"```.*?```", "", README, flags=re.S))
    return blocks + spans


def _site_addresses() -> set[str]:
    site = load_site(SITE)
    out: set[str] = set()
    for group in site.devices:
        out.update(group.addresses())
    return out


def _shell_block(after: str) -> list[str]:
    """The lines of the first ```sh block after the heading ``after``."""
    section = README[README.index(after) :]
    block = re.search(r"```sh\n(.*?)```", section, flags=re.S)
    assert block, f"no sh block after {after!r}"
    return [line for line in block.group(1).splitlines() if line.strip()]


def test_readme_carries_the_generated_worked_example() -> None:
    generated = (ROOT / "controller/policy/README.md").read_text()
    table = [line for line in generated.splitlines() if line.startswith("| ")]
    assert table, "the policy README lost its worked-example table"
    missing = [line for line in table if line not in README]
    assert not missing, f"README.md is out of date with controller/policy/README.md: {missing[:2]}"


def test_readme_gives_the_two_commands() -> None:
    assert "make demo" in README
    assert "make test" in README


def test_every_simulated_address_in_the_readme_is_on_the_example_site() -> None:
    named = set(re.findall(r"\b127\.0\.(?!0\.)\d+\.\d+\b", README))
    assert named, "the README names no simulated device"
    missing = named - _site_addresses()
    assert not missing, f"the README names addresses the example site lacks: {sorted(missing)}"


def test_every_hashpivot_command_in_the_readme_exists() -> None:
    usage = subprocess.run(
        [*HASHPIVOT, "--help"], capture_output=True, text=True, check=True
    ).stdout
    choices = re.search(r"\{([a-z,-]+)\}", usage)
    assert choices, usage
    commands = set(choices.group(1).split(","))
    named = {
        match
        for text in _code()
        for match in re.findall(r"(?:^|[\s(])hashpivot ([a-z][a-z-]*)", text, flags=re.M)
    }
    assert {"sim", "run", "probe", "demo"} <= named
    assert named <= commands, f"the README names commands that do not exist: {named - commands}"


def test_every_path_the_readme_links_exists() -> None:
    linked = re.findall(r"\]\(((?:deploy|docs|bench|controller|tests)/[^)#]*)\)", README)
    assert linked
    missing = [path for path in linked if not (ROOT / path).exists()]
    assert not missing, missing


def _privileged() -> None:
    if os.geteuid() != 0:
        if os.environ.get("CI"):
            pytest.fail("the example site binds ports 80, 502 and 4028: CI runs as root")
        pytest.skip("the example site binds privileged ports (80, 502, 4028): needs root")


async def _wait_for_api(port: int) -> dict[str, object]:
    import aiohttp  # noqa: PLC0415

    async with aiohttp.ClientSession() as session, asyncio.timeout(60):
        while True:
            try:
                async with session.get(f"http://127.0.0.1:{port}/api/v1/status") as resp:
                    status: dict[str, object] = await resp.json()
                    health = status["by_health"]
                    assert isinstance(health, dict)
                    if status["plan"] and health.get("healthy", 0) >= 30:
                        return status
            except (aiohttp.ClientError, OSError):
                pass
            await asyncio.sleep(0.5)


@pytest.mark.slow
async def test_the_readme_commands_run_against_the_simulated_site(tmp_path: Path) -> None:
    """`hashpivot sim` as the README gives it prints the lines it shows; the probes it
    gives answer; `hashpivot run` on the example config takes every curl example."""
    _privileged()
    curl = require_tool("curl")
    env = {**os.environ, "XDG_STATE_HOME": str(tmp_path / "state"), "HASHPIVOT_API_TOKEN": TOKEN}
    sim_command = re.search(r"`hashpivot sim (deploy/examples/site-small\.yaml)`", README)
    assert sim_command, "the README's simulator command moved"
    sim = await asyncio.create_subprocess_exec(
        *HASHPIVOT,
        "sim",
        sim_command.group(1),
        "--speed",
        "60",
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    daemon: asyncio.subprocess.Process | None = None
    try:
        assert sim.stdout is not None
        printed: list[str] = []
        async with asyncio.timeout(60):
            while (line := (await sim.stdout.readline()).decode().strip()) != "ready":
                assert line, "the simulator exited before it was ready"
                printed.append(line)
        for sample in re.findall(r"`((?:antminer|gpu|meter) [^`]+ 127\.0\.\d+\.\d+)`", README):
            assert sample in printed, f"the README's sample sim line {sample!r} is not printed"

        # Every probe of a simulated address, in the README and in probe's own help.
        helptext = (
            await asyncio.to_thread(
                subprocess.run,
                [*HASHPIVOT, "probe", "--help"],
                capture_output=True,
                text=True,
                check=True,
            )
        ).stdout
        probes = {
            line.strip()
            for text in [*_code(), helptext]
            for line in re.findall(r"hashpivot probe 127\.0\.[^\n`]*", text)
        }
        probes = {p for p in probes if "--port" not in p}  # those are for --unprivileged
        assert probes
        for probe in sorted(probes):
            argv = shlex.split(probe.split("  ")[0])[1:]
            done = await asyncio.create_subprocess_exec(
                *HASHPIVOT, *argv, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
            )
            out, err = await asyncio.wait_for(done.communicate(), 60)
            assert done.returncode == 0, f"{probe}: {err.decode()}"
            assert json.loads(out)["make"]

        # The controller on the example config (on a free port), then the README's API lines.
        port = free_port()
        config = tmp_path / "hashpivot-small.yaml"
        config.write_text(CONFIG.read_text().replace("127.0.0.1:9861", f"127.0.0.1:{port}"))
        daemon = await asyncio.create_subprocess_exec(
            *HASHPIVOT,
            "run",
            str(config),
            env=env,
            cwd=ROOT,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        await _wait_for_api(port)
        event_id = ""
        for line in _shell_block("## Grid events, overrides and the audit trail"):
            script = line.replace("127.0.0.1:9861", f"127.0.0.1:{port}")
            script = script.replace(
                "export HASHPIVOT_API_TOKEN=...", f"export HASHPIVOT_API_TOKEN={TOKEN}"
            )
            script = script.replace("<id>", event_id)
            script = re.sub(r"\bcurl -s\b", f"{curl} -sS --fail-with-body", script)
            prelude = f"api=http://127.0.0.1:{port}/api/v1; auth='Authorization: Bearer {TOKEN}';"
            done = await asyncio.to_thread(
                subprocess.run,
                ["bash", "-c", prelude + script],
                capture_output=True,
                text=True,
                env=env,
                timeout=60,
                check=False,
            )
            assert done.returncode == 0, f"{line}\n{done.stdout}{done.stderr}"
            if "/events -d" in line:
                event_id = json.loads(done.stdout)["event_id"]
        assert event_id
    finally:
        for process in (daemon, sim):
            if process is not None and process.returncode is None:
                process.send_signal(signal.SIGTERM)
                await asyncio.wait_for(process.communicate(), 30)
    assert daemon is not None
    assert daemon.returncode == 0
