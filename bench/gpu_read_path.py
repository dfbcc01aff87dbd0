"""Where a GPU node read's time goes: NVML calls, the agent, the HTTP hop and the driver.

    .venv/bin/python bench/gpu_read_path.py --backend fake --gpus 8 --out FILE.json
    python3 bench/gpu_read_path.py --backend nvml --gpus 8 --out FILE.json   # on a GPU node

It times whichever ``drivers`` package is first on ``sys.path`` (so ``PYTHONPATH=OLD_TREE``
times an older version of the same code), and only reads: no limit, clock or mode is
changed. The agent runs in a child process, as in production, on 127.0.0.1; this process
holds one :class:`GpuNodeDriver` and times ``read_node`` end to end. The agent's own time
is measured inside the agent, around ``GpuNode.read`` (the NVML reads and their
conversion), so it is comparable across versions. With ``--backend nvml`` and fewer real
GPUs than ``--gpus``, the node's GPU list repeats the real ones: every read makes the same
NVML calls as on a node of that size, on fewer chips.

``--backend fake`` stands NVML in with a module of the same shape whose calls cost what
``--call-us`` says (a JSON object of function name to microseconds, as the ``nvml`` run's
``calls_us`` reports; default: 2 us each). Results are JSON: ``calls_us`` (median per NVML
function, nvml only), ``read_ms`` (agent side), ``node_read_ms`` (end to end),
``ping_ms`` (an empty aiohttp round trip: the transport's floor), ``profile`` (cProfile's
top entries for ``GpuNode.read``).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import importlib.util
import io
import json
import os
import platform
import pstats
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

# The calls PynvmlBackend.read_raw makes, with the arguments it passes.
NVML_CALLS: dict[str, Callable[[Any, Any], Any]] = {
    "nvmlDeviceGetName": lambda n, h: n.nvmlDeviceGetName(h),
    "nvmlDeviceGetUUID": lambda n, h: n.nvmlDeviceGetUUID(h),
    "nvmlDeviceGetPciInfo": lambda n, h: n.nvmlDeviceGetPciInfo(h),
    "nvmlDeviceGetPowerUsage": lambda n, h: n.nvmlDeviceGetPowerUsage(h),
    "nvmlDeviceGetEnforcedPowerLimit": lambda n, h: n.nvmlDeviceGetEnforcedPowerLimit(h),
    "nvmlDeviceGetPowerManagementLimit": lambda n, h: n.nvmlDeviceGetPowerManagementLimit(h),
    "nvmlDeviceGetPowerManagementDefaultLimit": (
        lambda n, h: n.nvmlDeviceGetPowerManagementDefaultLimit(h)
    ),
    "nvmlDeviceGetPowerManagementLimitConstraints": (
        lambda n, h: n.nvmlDeviceGetPowerManagementLimitConstraints(h)
    ),
    "nvmlDeviceGetTotalEnergyConsumption": lambda n, h: n.nvmlDeviceGetTotalEnergyConsumption(h),
    "nvmlDeviceGetTemperature": lambda n, h: n.nvmlDeviceGetTemperature(h, 0),
    "nvmlDeviceGetUtilizationRates": lambda n, h: n.nvmlDeviceGetUtilizationRates(h),
    "nvmlDeviceGetMemoryInfo": lambda n, h: n.nvmlDeviceGetMemoryInfo(h),
    "nvmlDeviceGetClockInfo(SM)": lambda n, h: n.nvmlDeviceGetClockInfo(h, 1),
    "nvmlDeviceGetClockInfo(MEM)": lambda n, h: n.nvmlDeviceGetClockInfo(h, 2),
    "nvmlDeviceGetCurrentClocksEventReasons": (
        lambda n, h: n.nvmlDeviceGetCurrentClocksEventReasons(h)
    ),
    "nvmlDeviceGetTotalEccErrors": lambda n, h: n.nvmlDeviceGetTotalEccErrors(h, 0, 0),
}


def _fake_nvml_module() -> Any:
    """tests/gpu/fake_pynvml.py of this tree, loaded by path: the one NVML stand-in, and
    not an older tree's when PYTHONPATH puts one first."""
    path = Path(__file__).resolve().parents[1] / "tests" / "gpu" / "fake_pynvml.py"
    spec = importlib.util.spec_from_file_location("hashpivot_bench_fake_pynvml", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def paced_nvml(gpus: int, cost_us: dict[str, float]) -> Any:
    """The tests' NVML stand-in over ``gpus`` H200s, each read call costing what ``cost_us``
    gives it (default 2 us), releasing the GIL as a ctypes call into NVML does. Where the
    H200 answered otherwise than the stand-in, it answers as the H200 did."""
    fake = _fake_nvml_module()
    cost_s = {k: v / 1e6 for k, v in cost_us.items()}

    def pay(name: str) -> None:
        cost = cost_s.get(name, 2e-6)
        end = time.perf_counter() + cost
        if cost > 50e-6:
            time.sleep(cost)
        else:
            while time.perf_counter() < end:  # sleep() cannot wait a few microseconds
                pass

    class PacedNvml(fake.FakeNvml):  # type: ignore[misc,name-defined]
        def nvmlEventSetCreate(self) -> None:
            raise fake.NVMLError(3)  # no XID events: the watch is off, as where unsupported

        def nvmlDeviceGetCurrentClocksEventReasons(self, h: int) -> int:
            return 4

        def nvmlDeviceGetTotalEccErrors(self, h: int, kind: int, counter: int) -> int:
            return 0

    nvml = PacedNvml(gpus)
    for name in NVML_CALLS:
        method = name.partition("(")[0]
        if method != "nvmlDeviceGetClockInfo":
            setattr(nvml, method, _paced(pay, name, getattr(nvml, method)))
    clock = nvml.nvmlDeviceGetClockInfo

    def clock_info(h: int, kind: int) -> int:
        pay(f"nvmlDeviceGetClockInfo({'SM' if kind == fake.NVML_CLOCK_SM else 'MEM'})")
        return int(clock(h, kind))

    nvml.nvmlDeviceGetClockInfo = clock_info
    return nvml


def _paced(pay: Callable[[str], None], name: str, call: Callable[..., Any]) -> Callable[..., Any]:
    def paced(*args: Any) -> Any:
        pay(name)
        return call(*args)

    return paced


def _load_nvml(args: argparse.Namespace) -> Any:
    if args.backend == "nvml":
        import pynvml  # type: ignore[import-untyped]  # noqa: PLC0415 - only on a GPU node

        return pynvml
    cost = json.loads(Path(args.call_us).read_text())["calls_us"] if args.call_us else {}
    return paced_nvml(args.gpus, cost)


def _backend(args: argparse.Namespace) -> Any:
    from drivers.gpu_agent.nvml_pynvml import PynvmlBackend  # noqa: PLC0415 - the tree under test

    backend = PynvmlBackend(host="bench", nvml=_load_nvml(args))
    real = list(backend._handles)
    backend._handles = [real[i % len(real)] for i in range(args.gpus)]
    return backend


def _median_ms(values: list[float]) -> dict[str, float]:
    values = sorted(values)
    return {
        "p50": round(1000 * statistics.median(values), 3),
        "p10": round(1000 * values[len(values) // 10], 3),
        "p90": round(1000 * values[(9 * len(values)) // 10], 3),
        "n": len(values),
    }


def time_calls(nvml: Any, repeats: int) -> dict[str, float]:
    nvml.nvmlInit()
    handle = nvml.nvmlDeviceGetHandleByIndex(0)
    out: dict[str, float] = {}
    for name, call in NVML_CALLS.items():
        try:
            call(nvml, handle)
        except Exception:
            out[name] = -1.0
            continue
        times = []
        for _ in range(repeats):
            began = time.perf_counter()
            call(nvml, handle)
            times.append(time.perf_counter() - began)
        out[name] = round(1e6 * statistics.median(times), 2)
    return out


def serve(args: argparse.Namespace) -> None:
    """The child: the agent over the chosen backend, plus two bench-only routes."""
    from aiohttp import web  # noqa: PLC0415

    from drivers.gpu_agent.nvml import GpuNode  # noqa: PLC0415
    from drivers.gpu_agent.server import make_app  # noqa: PLC0415

    node = GpuNode(_backend(args))
    read_s: list[float] = []
    inner = node.read

    def timed_read() -> Any:
        began = time.perf_counter()
        try:
            return inner()
        finally:
            read_s.append(time.perf_counter() - began)

    node.read = timed_read  # type: ignore[method-assign]
    app = make_app(node, token=None)
    if args.no_xid_watch:
        app.cleanup_ctx.clear()  # the XID watch is the agent's only background work

    async def times(request: web.Request) -> web.Response:
        body = list(read_s)
        read_s.clear()
        return web.json_response(body)

    async def ping(request: web.Request) -> web.Response:
        return web.json_response({})

    app.router.add_get("/bench/times", times)
    app.router.add_get("/bench/ping", ping)
    profile = cProfile.Profile()
    profile.enable()
    for _ in range(args.repeats):
        inner()
    profile.disable()
    text = io.StringIO()
    pstats.Stats(profile, stream=text).sort_stats("tottime").print_stats(15)
    Path(args.profile_out).write_text(text.getvalue())
    print("ready", flush=True)
    web.run_app(app, host="127.0.0.1", port=args.port, print=None, access_log=None)


async def client(args: argparse.Namespace) -> dict[str, Any]:
    import aiohttp  # noqa: PLC0415

    from drivers.gpu.device import GpuNodeDriver  # noqa: PLC0415
    from drivers.types import DeviceEndpoint  # noqa: PLC0415

    driver = GpuNodeDriver(DeviceEndpoint("127.0.0.1", (("agent", args.port),)))
    url = f"http://127.0.0.1:{args.port}"
    async with aiohttp.ClientSession() as session:
        for _ in range(100):  # the child says ready just before it binds
            try:
                await driver.read_node()
                break
            except Exception:
                await asyncio.sleep(0.1)
        for _ in range(20):
            await driver.read_node()
            async with session.get(url + "/bench/ping") as resp:
                await resp.read()
        async with session.get(url + "/bench/times") as resp:
            await resp.read()  # drop the warm-up's
        e2e, ping = [], []
        for _ in range(args.repeats):
            began = time.perf_counter()
            node = await driver.read_node()
            e2e.append(time.perf_counter() - began)
            if len(node.gpus) != args.gpus or not all(g.power_w for g in node.gpus):
                raise SystemExit(f"a read came back short: {node}")
        for _ in range(args.repeats):
            began = time.perf_counter()
            async with session.get(url + "/bench/ping") as resp:
                await resp.read()
            ping.append(time.perf_counter() - began)
        async with session.get(url + "/bench/times") as resp:
            agent = await resp.json()
    await driver.close()
    read = _median_ms(agent)
    node_read = _median_ms(e2e)
    return {
        "read_ms": read,
        "node_read_ms": node_read,
        "overhead_ms": round(node_read["p50"] - read["p50"], 3),
        "ping_ms": _median_ms(ping),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench/gpu_read_path.py")
    parser.add_argument("--backend", choices=["nvml", "fake"], default="fake")
    parser.add_argument("--gpus", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=200)
    parser.add_argument("--port", type=int, default=19862)
    parser.add_argument("--call-us", help="JSON with calls_us, to pace the fake's calls")
    parser.add_argument("--label", default="")
    parser.add_argument("--no-xid-watch", action="store_true", help="agent without its XID watch")
    parser.add_argument("--out", required=True)
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--profile-out", default="", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        serve(args)
        return 0
    import drivers  # noqa: PLC0415

    result: dict[str, Any] = {
        "label": args.label,
        "tree": str(Path(drivers.__file__).resolve().parents[1]),
        "backend": args.backend,
        "gpus": args.gpus,
        "repeats": args.repeats,
        "python": platform.python_version(),
        "kernel": platform.release(),
    }
    if args.backend == "nvml":
        nvml = _load_nvml(args)
        result["calls_us"] = time_calls(nvml, args.repeats)
        result["driver"] = str(nvml.nvmlSystemGetDriverVersion())
        result["real_gpus"] = int(nvml.nvmlDeviceGetCount())
        nvml.nvmlShutdown()
    profile_out = str(Path(os.environ.get("TMPDIR", "/tmp")) / f"gpu-read-{os.getpid()}.prof")
    child = subprocess.Popen(
        [
            sys.executable,
            __file__,
            *(argv or sys.argv[1:]),
            "--serve",
            "--profile-out",
            profile_out,
        ],
        stdout=subprocess.PIPE,
        text=True,
        env=os.environ.copy(),
    )
    try:
        assert child.stdout is not None
        if child.stdout.readline().strip() != "ready":
            raise SystemExit("the agent did not start")
        result.update(asyncio.run(client(args)))
    finally:
        child.terminate()
        child.wait(timeout=30)
    result["no_xid_watch"] = args.no_xid_watch
    result["profile"] = Path(profile_out).read_text()
    Path(profile_out).unlink()
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps({k: v for k, v in result.items() if k != "profile"}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())


# Side by side: the code at a git ref against the working tree ------------------------

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
DEVICE = RESULTS / "gpu_read_path_h200"


def speed_reference_ms() -> float:
    """A fixed pure-Python loop (best of 5): scale this run's absolute figures by it."""
    best = float("inf")
    for _ in range(5):
        began = time.perf_counter()
        total = 0
        for i in range(1_000_000):
            total += i * i % 7
        best = min(best, time.perf_counter() - began)
    return round(1000 * best, 1)


def _run_tree(tree: Path, label: str, gpus: int, repeats: int, call_us: Path) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "out.json"
        subprocess.run(
            [
                sys.executable,
                __file__,
                "--backend",
                "fake",
                "--gpus",
                str(gpus),
                "--repeats",
                str(repeats),
                "--call-us",
                str(call_us),
                "--label",
                label,
                "--out",
                str(out),
            ],
            check=True,
            env={**os.environ, "PYTHONPATH": str(tree)},
            stdout=subprocess.DEVNULL,
        )
        result: dict[str, Any] = json.loads(out.read_text())
    result.pop("profile", None)
    result.pop("tree", None)
    return result


def compare(before_ref: str, gpus: int = 8, repeats: int = 200) -> dict[str, Any]:
    """The read path at ``before_ref`` and now, over NVML paced as the real H200 measured."""
    call_us = DEVICE / "diagnosis" / "before-1.json"
    repo = HERE.parent
    speed = speed_reference_ms()
    with tempfile.TemporaryDirectory() as tmp:
        archive = subprocess.run(
            ["git", "-C", str(repo), "archive", before_ref, "drivers"],
            check=True,
            capture_output=True,
        ).stdout
        subprocess.run(["tar", "-x", "-C", tmp], input=archive, check=True)
        before = _run_tree(Path(tmp), "before", gpus, repeats, call_us)
    after = _run_tree(repo, "after", gpus, repeats, call_us)
    device = {
        p.stem: {k: json.loads(p.read_text()).get(k) for k in ("read_ms", "node_read_ms", "gpus")}
        for p in sorted((DEVICE / "after_fix").glob("*.json"))
    }
    return {
        "benchmark": "gpu_read_path",
        "command": f".venv/bin/python -m bench.gpu_sweep --read-path --before {before_ref}",
        "before_ref": before_ref,
        "speed_reference_ms": speed,
        "paced_like": str(call_us.relative_to(repo)),
        "local": {"before": before, "after": after},
        "device": device,
        "device_command": "bench/gpu_read_path_device.sh (prepare here, run there)",
    }


def _row(name: str, r: dict[str, Any]) -> str:
    read, node = r["read_ms"]["p50"], r["node_read_ms"]["p50"]
    return f"| {name} | {read} | {node} | {round(node - read, 3)} | {r['node_read_ms']['p90']} |"


def markdown(doc: dict[str, Any]) -> str:
    local = doc["local"]
    ratio = local["before"]["node_read_ms"]["p50"] / local["after"]["node_read_ms"]["p50"]
    device = doc["device"]
    rows = [_row(f"{name} ({r['gpus']} GPU)", r) for name, r in device.items()]
    dev_ratio = device["before-8"]["node_read_ms"]["p50"] / device["after-8"]["node_read_ms"]["p50"]
    return "\n".join(
        [
            "### GPU node read path: agent + driver, before and after",
            "",
            f"Command: `{doc['command']}`",
            "",
            "One `GpuNodeDriver.read_node` against `hashpivot gpu-agent` in its own process on "
            "loopback; agent side is `GpuNode.read` (NVML calls and conversion) timed inside the "
            "agent; overhead is end to end minus agent side (median). Here NVML is a stand-in "
            "whose calls cost what the real H200 measured "
            f"(`{doc['paced_like']}`); before is `{doc['before_ref']}`, in the same run. "
            f"Machine-speed reference (1e6-step pure-Python loop): {doc['speed_reference_ms']} ms.",
            "",
            "| code, 8 GPUs | agent side p50 ms | end to end p50 ms | overhead ms "
            "| end to end p90 ms |",
            "|---|---|---|---|---|",
            _row("before", local["before"]),
            _row("after", local["after"]),
            "",
            f"End to end, before / after: **{ratio:.1f}x**.",
            "",
            "On the real H200 (driver 580.159.04, one GPU; the 8-GPU rows read it 8 times per "
            "node read, as an 8-GPU node's NVML calls would; "
            "`bench/results/gpu_read_path_h200/`), before and after in one run:",
            "",
            "| run | agent side p50 ms | end to end p50 ms | overhead ms | end to end p90 ms |",
            "|---|---|---|---|---|",
            *rows,
            "",
            f"8-GPU node read on the H200, before / after: **{dev_ratio:.1f}x**. Where the time "
            "went (`diagnosis/`): `nvmlDeviceGetTotalEnergyConsumption` ~3 ms a call, "
            "`nvmlDeviceGetPowerManagementLimit` ~165 us, the 14 others 1-8 us.",
        ]
    )


def write_compare(before_ref: str) -> int:
    doc = compare(before_ref)
    (RESULTS / "gpu_read_path.json").write_text(json.dumps(doc, indent=2) + "\n")
    (RESULTS / "gpu_read_path.md").write_text(markdown(doc) + "\n")
    print(markdown(doc))
    return 0
