"""Where state lives, and one live process per journal."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import pytest

from controller.config.paths import example, resolve_state_path, state_dir
from controller.journal.lock import JournalHeld
from controller.journal.store import Journal
from tests.conftest import free_port, hashpivot_run


def test_state_dir_under_systemd_is_its_state_directory() -> None:
    env = {"STATE_DIRECTORY": "/var/lib/hashpivot", "XDG_STATE_HOME": "/home/u/.state"}
    assert state_dir(env) == Path("/var/lib/hashpivot")
    # Several StateDirectory= entries arrive colon-separated; ours is the first.
    assert state_dir({"STATE_DIRECTORY": "/var/lib/hashpivot:/var/lib/other"}) == Path(
        "/var/lib/hashpivot"
    )


def test_state_dir_for_a_user_follows_xdg() -> None:
    assert state_dir({"XDG_STATE_HOME": "/home/u/.state"}) == Path("/home/u/.state/hashpivot")
    default = Path.home() / ".local" / "state" / "hashpivot"
    assert state_dir({}) == default
    assert state_dir({"XDG_STATE_HOME": "relative"}) == default  # the spec says: ignore it


def test_relative_journal_paths_resolve_under_the_state_dir() -> None:
    env = {"STATE_DIRECTORY": "/var/lib/hashpivot"}
    assert resolve_state_path("j.sqlite", env) == Path("/var/lib/hashpivot/j.sqlite")
    assert resolve_state_path("/srv/j.sqlite", env) == Path("/srv/j.sqlite")


def test_the_examples_ship_with_the_package() -> None:
    assert example("site-small.yaml").is_file()
    assert example("hashpivot-small.yaml").is_file()
    assert "journal" in example("hashpivot-small.yaml").read_text()


async def test_a_second_journal_on_the_same_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "journal.sqlite"
    first = Journal(path)
    await first.open()
    try:
        second = Journal(path)
        with pytest.raises(
            JournalHeld, match=rf"in use by another hashpivot process \(pid {os.getpid()}\)"
        ):
            await second.open()
    finally:
        await first.close()
    # Released on close: the next run opens it.
    third = Journal(path)
    await third.open()
    await third.close()


async def test_a_journal_held_by_another_live_process_stops_run_with_one_line(
    tmp_path: Path,
) -> None:
    path = tmp_path / "journal.sqlite"
    holder = Journal(path)
    await holder.open()
    config = tmp_path / "site.yaml"
    config.write_text(
        f"site: t\nlisten: 127.0.0.1:{free_port()}\n"
        "devices: [{make: antminer, address: 127.0.160.1}]\n"
        f"journal: {{path: {path}}}\n"
    )
    try:
        process = await hashpivot_run(
            config,
            "--log-level",
            "error",
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        _, err = await asyncio.wait_for(process.communicate(), 60)
    finally:
        await holder.close()
    text = err.decode()
    assert process.returncode == 1, text
    assert "is in use by another hashpivot process" in text
    assert "Traceback" not in text
    assert len(text.strip().splitlines()) == 1, text


async def test_a_killed_holder_leaves_no_stale_lock(tmp_path: Path) -> None:
    path = tmp_path / "journal.sqlite"
    script = (
        "import asyncio, sys\n"
        "from controller.journal.store import Journal\n"
        "async def main():\n"
        f"    j = Journal({str(path)!r}); await j.open(); print('open', flush=True)\n"
        "    await asyncio.sleep(60)\n"
        "asyncio.run(main())\n"
    )
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-c", script, stdout=asyncio.subprocess.PIPE
    )
    assert process.stdout is not None
    assert (await asyncio.wait_for(process.stdout.readline(), 30)).strip() == b"open"
    with pytest.raises(JournalHeld, match=rf"pid {process.pid}"):
        await Journal(path).open()
    process.kill()  # as kill -9: the kernel drops the lock with the process
    await process.wait()
    journal = Journal(path)
    await journal.open()
    await journal.close()
