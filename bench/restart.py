"""Restart with a large journal: time to serve HTTP and peak memory.

    python -m bench.restart [--rows 400000]

Builds a journal of ``--rows`` rows as twelve days of a real site would leave it: half
of them price updates (one every 5 s), then meter samples of past events, commands,
plans, policy memory, device transitions and the events themselves, with one event,
one override and a pause still in force. Then, in this one run:

* ``reference_s``: the machine-speed reference, a fixed pure-Python workload (JSON
  round trips), so the absolute figures below can be read against this machine;
* ``full_read_s``: reading and decoding every row of the journal once, the least a
  restart that replays everything pays (the issue measured 42.9 s and 778 MB for it);
* side by side in this process, the control state rebuilt from every state row as the
  daemon did before (``replay_all_s``) and from what a restart reads now
  (``replay_needed_s``), and their ratio;
* the daemon (``hashpivot run``, a child process) started on that journal: seconds
  from spawn to the first answer of ``GET /api/v1/status`` (``serve_s``) and the
  child's peak resident memory by then (``serve_peak_mb``). Its state is checked:
  the active event, the override, the pause and the latest price are all back;
* then its first compaction by the configured retention (running in the background
  while it serves): how long it took, rows and megabytes before and after, and the
  child's peak memory over the whole run (``peak_mb``);
* a second restart on the compacted journal (``serve_compacted_s``).

The devices of the daemon's config do not answer (nothing listens on their
addresses): serving HTTP does not wait for them. The run fails (exit 1) if
``serve_s`` >= 5 s or ``peak_mb`` >= 300 MB, the targets of issue 10.

Writes bench/results/restart.json and bench/results/restart.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).parent / "results"
TOKEN = "bench"
SERVE_LIMIT_S = 5.0
PEAK_LIMIT_MB = 300.0
DAYS = 12.0
DEVICES = 50
HOST_PREFIX = "127.0.159"  # nothing listens here: the bench's devices never answer


def reference_s() -> float:
    """A fixed CPU workload: 200,000 JSON round trips of a journal-sized row."""
    row = {
        "power_price_usd_per_mwh": 41.25,
        "hashprice_usd_per_ph_day": None,
        "as_of": 1.7e9,
        "source": "ercot",
    }
    started = time.perf_counter()
    for i in range(200_000):
        row["as_of"] = 1.7e9 + i
        json.loads(json.dumps(row))
    return time.perf_counter() - started


def _mix(rows: int) -> dict[str, int]:
    """How many rows of each kind: half prices, the rest as a site's twelve days."""
    shares = {
        "meter.sample": 0.25,
        "command.": 0.11,
        "plan": 0.05,
        "memory": 0.04,
        "device.state": 0.03,
        "device.health": 0.015,
    }
    mix = {"economics.updated": rows // 2}
    mix.update({kind: int(rows * share) for kind, share in shares.items()})
    return mix


def build_journal(path: Path, rows: int, now: float) -> dict[str, Any]:
    """Rows in the shapes the daemon writes, oldest first; returns what must come back."""
    import asyncio  # noqa: PLC0415

    from controller.journal.store import Journal  # noqa: PLC0415 - the schema, created its way

    async def create() -> None:
        journal = Journal(path)
        await journal.open()
        await journal.close()

    asyncio.run(create())
    rng = random.Random(10)
    start = now - DAYS * 86_400
    devices = [f"{HOST_PREFIX}.{i + 1}" for i in range(DEVICES)]
    out: list[tuple[float, str, str, str, str, int]] = []

    def add(
        at: float, kind: str, subject: str, data: dict[str, Any], actor: str = "controller"
    ) -> None:
        run = 1 + int((at - start) / (DAYS * 86_400) * 5)  # five daemon runs over the days
        out.append((at, actor, kind, subject, json.dumps(data, separators=(",", ":")), run))

    mix = _mix(rows)
    # Thirty past events, an hour and a half each, and one running now.
    events = []
    for n in range(30):
        at = start + (n + 0.5) * (DAYS * 86_400 - 7200) / 30
        events.append((f"instructed-{n:04d}", at, at + 5400))
    active = ("instructed-live", now - 600, now + 3600)
    events.append(active)
    for event_id, begin, end in events:
        event = {
            "event_id": event_id,
            "kind": "instructed",
            "start": begin,
            "end": end,
            "level_mw": 0.085,
            "deadline": begin + 60,
            "source": "ercot",
            "created_at": begin,
            "updated_at": begin,
            "cancelled_at": None,
        }
        add(begin, "event.created", event_id, {"event": event}, "api:127.0.0.1")
        add(
            begin,
            "event.baseline",
            event_id,
            {"watts": 120_000.0, "source": "meter", "level_w": 85_000.0},
        )
        for pct, after in ((50, 20), (90, 40), (100, 55)):
            add(
                begin + after,
                "event.milestone",
                event_id,
                {"pct": pct, "elapsed_s": after, "watts": 84_000.0, "source": "meter"},
            )
    per_event = mix["meter.sample"] // len(events)
    for event_id, begin, end in events:
        span = min(end, now) - begin
        for i in range(per_event):
            at = begin + span * i / per_event
            add(
                at,
                "meter.sample",
                "",
                {
                    "watts": round(rng.uniform(8e4, 9e4), 1),
                    "source": "meter",
                    "events": [event_id],
                    "detail": "modbus 127.0.0.1:502",
                },
            )
    for i in range(mix["economics.updated"]):
        at = start + i * (DAYS * 86_400) / mix["economics.updated"]
        add(
            at,
            "economics.updated",
            "",
            {
                "power_price_usd_per_mwh": round(rng.uniform(15, 90), 2),
                "hashprice_usd_per_ph_day": None,
                "as_of": at,
                "source": "ercot",
            },
            "signal:ercot",
        )
    for i in range(0, mix["command."], 3):
        at = start + rng.random() * DAYS * 86_400
        device = rng.choice(devices)
        base = {"command": "sleep", "priority": "grid", "origin": "plan", "attempt": 0}
        add(at, "command.sent", device, {**base, "plan": i})
        add(
            at + 0.4,
            "command.result",
            device,
            {**base, "result": "ok", "code": None, "detail": "", "elapsed_s": 0.4, "final": True},
        )
        add(at + 9, "command.confirmed", device, {"command": "sleep", "after_s": 8.6, "resends": 0})
    # A plan row as plan_summary writes it: twenty commonest reasons, notes, counts.
    reasons = [
        [
            f"S19j Pro group {n}: break-even $38.{n:02d}/MWh < price $41.25/MWh; "
            "sleeps after 3 of 3 windows",
            12,
        ]
        for n in range(20)
    ]
    for i in range(mix["plan"]):
        at = start + i * DAYS * 86_400 / mix["plan"]
        add(
            at,
            "plan",
            str(i),
            {
                "reason": "interval",
                "limit_w": 85_000.0,
                "expected_site_w": 84_000.0,
                "observed_site_w": 86_000.0,
                "stale": False,
                "relay_latched": False,
                "infeasible": False,
                "grid_binding": False,
                "reasons": reasons,
                "notes": ["price window 3 of 3 above break-even"],
                "commands": {"sleep": 2},
                "paused": False,
                "dry_run": False,
            },
        )
    # Policy memory of a mixed site: a hysteresis entry per model and power step.
    levers = {
        f"{model}:step{n}": [False, 2, 0]
        for model in ("S19j Pro", "S19 XP", "S21", "S21 XP", "M60S", "M63S", "AT2880", "H200")
        for n in range(5)
    }
    for i in range(mix["memory"]):
        at = start + i * DAYS * 86_400 / mix["memory"]
        memory = {"version": 1, "last_price_at": at, "relay_latched_at": None, "levers": levers}
        add(at, "memory", "", {"json": json.dumps(memory, sort_keys=True)})
    for i in range(mix["device.state"]):
        at = start + i * DAYS * 86_400 / mix["device.state"]
        add(at, "device.state", devices[i % DEVICES], {"sleeping": bool(i % 2)})
    for i in range(mix["device.health"]):
        at = start + i * DAYS * 86_400 / mix["device.health"]
        add(
            at,
            "device.health",
            devices[i % DEVICES],
            {"health": "unreachable" if i % 2 else "healthy", "error": "connect refused"},
        )
    add(
        now - 900,
        "override.set",
        devices[0],
        {"action": "force_sleep", "expires_at": None, "reason": "fan"},
        "api:127.0.0.1",
    )
    add(now - 800, "control.paused", "", {"reason": "bench"}, "api:127.0.0.1")
    while len(out) < rows:  # daemon starts fill the count exactly
        at = start + len(out)
        add(at, "daemon.started", "", {"run": 1, "active_events": [], "overrides": []})
    out = out[:rows]
    out.sort(key=lambda r: r[0])
    conn = sqlite3.connect(path)
    with conn:
        conn.executemany(
            "INSERT INTO journal (at, actor, kind, subject, data, run) VALUES (?, ?, ?, ?, ?, ?)",
            out,
        )
    conn.close()
    latest_price = next(json.loads(r[4]) for r in reversed(out) if r[2] == "economics.updated")
    return {
        "event": active[0],
        "override": devices[0],
        "price": latest_price["power_price_usd_per_mwh"],
    }


def full_read_s(path: Path) -> float:
    """Every row read and decoded: what replaying the whole journal costs at the least."""
    started = time.perf_counter()
    conn = sqlite3.connect(path)
    for row in conn.execute("SELECT seq, at, actor, kind, subject, data, run FROM journal"):
        json.loads(row[5])
    conn.close()
    return time.perf_counter() - started


def restore_s(path: Path) -> tuple[float, float]:
    """In this process, side by side: the state rebuilt by replaying every state row (as
    a restart did before the journal was bounded) and from ``state_entries`` alone."""
    import asyncio  # noqa: PLC0415

    from controller.journal.store import Journal  # noqa: PLC0415
    from controller.state.control import ControlState  # noqa: PLC0415

    async def both() -> tuple[float, float]:
        journal = Journal(path)
        await journal.open()
        started = time.perf_counter()
        kinds = ["event.", "override.", "control.", "relay.", "economics.", "memory"]
        ControlState.empty().replay(await journal.entries(kinds))
        everything = time.perf_counter() - started
        started = time.perf_counter()
        ControlState.empty().replay(await journal.state_entries())
        needed = time.perf_counter() - started
        await journal.close()
        return everything, needed

    return asyncio.run(both())


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def write_config(path: Path, journal: Path, port: int) -> None:
    config = {
        "site": "restart-bench",
        "listen": f"127.0.0.1:{port}",
        "poll_interval_s": 5,
        "poll_timeout_s": 1,
        "devices": [{"make": "antminer", "start": f"{HOST_PREFIX}.1", "count": DEVICES}],
        "economics": {"power_price_usd_per_mwh": 20.0, "hashprice_usd_per_ph_day": 45.0},
        "journal": {"path": str(journal)},
        "api": {"token": TOKEN},
    }
    path.write_text(json.dumps(config), encoding="utf-8")  # JSON is YAML


def get(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=2) as response:
        return json.loads(response.read())


def peak_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def start_daemon(config: Path, port: int) -> tuple[subprocess.Popen[bytes], float]:
    """The daemon as ``hashpivot run`` starts it; returns it and seconds to its first answer."""
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "controller.cli", "run", str(config), "--log-level", "warning"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}/api/v1/status"
    while True:
        if process.poll() is not None:
            err = process.stderr.read().decode() if process.stderr else ""
            raise SystemExit(f"the daemon exited: {err[-2000:]}")
        try:
            get(url)
            return process, time.perf_counter() - started
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.01)
        if time.perf_counter() - started > 120:
            process.kill()
            raise SystemExit("the daemon did not serve within 120 s")


def stop_daemon(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def journal_figures(path: Path) -> tuple[int, float]:
    conn = sqlite3.connect(path)
    rows = conn.execute("SELECT COUNT(*) FROM journal").fetchone()[0]
    conn.close()
    size = sum(p.stat().st_size for p in path.parent.glob(path.name + "*"))
    return int(rows), size / 1e6


def run(rows: int) -> dict[str, Any]:
    result: dict[str, Any] = {"rows": rows, "reference_s": round(reference_s(), 3)}
    with tempfile.TemporaryDirectory(prefix="hashpivot-restart-") as tmp:
        journal = Path(tmp) / "journal.sqlite"
        built = time.perf_counter()
        expect = build_journal(journal, rows, time.time())
        result["build_s"] = round(time.perf_counter() - built, 1)
        result["rows_before"], result["journal_mb_before"] = journal_figures(journal)
        result["journal_mb_before"] = round(result["journal_mb_before"], 1)
        result["full_read_s"] = round(full_read_s(journal), 3)
        replay_all, replay_needed = restore_s(journal)
        result["replay_all_s"] = round(replay_all, 3)
        result["replay_needed_s"] = round(replay_needed, 3)
        result["replay_all_vs_needed"] = round(replay_all / replay_needed, 1)
        port = free_port()
        config = Path(tmp) / "hashpivot.yaml"
        write_config(config, journal, port)
        process, serve_s = start_daemon(config, port)
        try:
            result["serve_s"] = round(serve_s, 3)
            result["serve_peak_mb"] = round(peak_mb(process.pid), 1)
            base = f"http://127.0.0.1:{port}/api/v1"
            status = get(f"{base}/status")
            economics = get(f"{base}/economics")
            result["restored"] = (
                status["events_active"] == [expect["event"]]
                and status["overrides"] == 1
                and status["control"]["paused"] is True
                and economics["power_price"]["usd_per_mwh"] == expect["price"]
            )
            waited = time.perf_counter()
            while True:
                compaction = get(f"{base}/status")["journal"].get("compaction")
                if compaction and compaction.get("finished_at"):
                    break
                if time.perf_counter() - waited > 300:
                    raise SystemExit("no compaction finished within 300 s")
                time.sleep(0.2)
            result["compaction_s"] = compaction["seconds"]
            result["rows_removed"] = compaction["rows_removed"]
            result["peak_mb"] = round(peak_mb(process.pid), 1)
        finally:
            stop_daemon(process)
        result["rows_after"], mb_after = journal_figures(journal)
        result["journal_mb_after"] = round(mb_after, 1)
        process, serve_s = start_daemon(config, port)
        try:
            result["serve_compacted_s"] = round(serve_s, 3)
        finally:
            stop_daemon(process)
    result["serve_vs_full_read"] = round(result["serve_s"] / result["full_read_s"], 2)
    result["ok"] = (
        result["serve_s"] < SERVE_LIMIT_S
        and result["peak_mb"] < PEAK_LIMIT_MB
        and result["restored"]
    )
    result["python"] = platform.python_version()
    return result


def write_results(result: dict[str, Any], command: str) -> None:
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "restart.json").write_text(json.dumps(result, indent=2) + "\n")
    lines = [
        "# Restart with a large journal",
        "",
        f"A journal of {result['rows']:,} rows (half of them price updates, twelve days of a "
        "site) and a daemon restarted on it: seconds to serve HTTP and peak memory "
        f"(targets: under {SERVE_LIMIT_S:g} s and {PEAK_LIMIT_MB:g} MB), beside reading every "
        "row once and a fixed CPU workload as this machine's speed reference. Compaction "
        "by the default retention runs in the background once the daemon serves.",
        "",
        "| metric | value |",
        "|---|---|",
    ]
    lines += [f"| {key} | {value} |" for key, value in result.items()]
    lines += ["", f"Produced by: `{command}` on {platform.machine()}, {platform.system()}."]
    (RESULTS / "restart.md").write_text("\n".join(lines) + "\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.restart", description=__doc__)
    parser.add_argument("--rows", type=int, default=400_000)
    args = parser.parse_args(argv)
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    result = run(args.rows)
    command = ".venv/bin/python -m bench.restart" + (
        f" --rows {args.rows}" if args.rows != 400_000 else ""
    )
    write_results(result, command)
    print(json.dumps(result, indent=2))
    if not result["ok"]:
        print("restart targets missed", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
