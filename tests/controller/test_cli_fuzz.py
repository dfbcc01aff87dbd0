"""Whatever an operator types or points a command at, ``hashpivot`` answers with an exit
status and at most one line on stderr, never a traceback.

Every subcommand is fuzzed in-process through the top-level entry point: its
arguments (known flags mixed with junk) and, for ``run`` and ``sim``, the bytes of the
file it is given. Nothing here may reach the network: the parts that would (a probe,
a daemon, a listening socket, a name lookup) are replaced by stand-ins that answer as
the real ones do when nothing is there.
"""

from __future__ import annotations

import contextlib
import io
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import controller.app
import controller.cli.probe
import controller.demo.run
import drivers.gpu_agent.cli
import simulators.cli
from controller.cli import main
from drivers import ConnectionFailed

COMMANDS = ["run", "sim", "probe", "demo", "gpu-agent"]
FLAGS = {
    "run": ["--log-level", "--help"],
    "sim": ["--speed", "--listen", "--unprivileged", "--control", "--seed", "--log-level"],
    "probe": ["--make", "--port", "--username", "--password", "--timeout", "--log-level"],
    "demo": ["--site", "--speed", "--refresh", "--no-story", "--listen", "--log-level"],
    "gpu-agent": ["--listen", "--token-file", "--simulated", "--dump-node", "--log-level"],
}
WORDS = [
    "-1", "0", "nan", "inf", "1e309", "0.5", "DEBUG", "info", "loud", "antminer", "web=10080",
    "127.0.0.1", "127.0.160.1:0", "[::1]:1", "not..an..ip", "banana", "a" * 300, "H200",
    "/nonexistent/x.yaml", "/dev/null", "/", "--", "-", "--version", "--help", "\n", "\udcff",
]  # fmt: skip
args = st.lists(
    st.sampled_from(sorted({f for flags in FLAGS.values() for f in flags}))
    | st.sampled_from(WORDS)
    # A command line cannot carry NUL (execve ends each argument there); anything else can.
    | st.text(st.characters(exclude_characters="\x00"), max_size=12),
    max_size=6,
)


def _no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    async def probe(endpoint: Any, *_: Any) -> dict[str, Any]:
        raise ConnectionFailed(endpoint.host, "nothing answers (fuzz stand-in)")

    async def serve(_config: Any) -> None:
        return None

    async def sim_run(args: Any) -> int:
        simulators.cli.load_site(args.site)  # what the real one does before it binds
        return 0

    async def demo_run(*_: Any) -> None:
        return None

    def getaddrinfo(host: str, *_: Any, **__: Any) -> list[Any]:
        if host in {"127.0.0.1", "localhost", "::1"} or host.startswith("127."):
            return []
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(controller.cli.probe, "probe", probe)
    monkeypatch.setattr(controller.app, "serve", serve)
    monkeypatch.setattr(simulators.cli, "_run", sim_run)
    monkeypatch.setattr(controller.demo.run, "_run", demo_run)
    monkeypatch.setattr(drivers.gpu_agent.cli.socket, "getaddrinfo", getaddrinfo)
    monkeypatch.setattr(drivers.gpu_agent.cli.web, "run_app", lambda *_, **__: None)

    def dump_node(*_: Any, **__: Any) -> dict[str, Any]:
        # --dump-node FILE would write wherever the fuzzer points it (as root: anywhere).
        raise ConnectionFailed("gpu-agent", "no dump in the fuzz test")

    monkeypatch.setattr(drivers.gpu_agent.cli, "dump_node", dump_node)


@contextlib.contextmanager
def _captured() -> Iterator[tuple[io.StringIO, io.StringIO]]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        yield out, err


def _run(argv: list[str]) -> tuple[int, str]:
    with _captured() as (_, err):
        try:
            code = main(argv)
        except SystemExit as exc:  # argparse's --help and usage errors
            code = exc.code if isinstance(exc.code, int) else 2
    return code, err.getvalue()


def _assert_clean(argv: list[str], code: int, err: str) -> None:
    assert code in {0, 1, 2, 3, 4, 5}, (argv, code, err)
    lines = [line for line in err.splitlines() if line.strip()]
    # Log lines from a command that started are not errors; everything else is one line.
    errors = [line for line in lines if " WARNING " not in line and " INFO " not in line]
    assert len(errors) <= 1, (argv, err)
    assert "Traceback" not in err, (argv, err)
    if code != 0:
        assert errors, (argv, code, "a failure must say why")


@pytest.fixture(autouse=True)
def _quiet_logging() -> Iterator[None]:
    yield
    import logging  # noqa: PLC0415

    logging.getLogger().handlers.clear()


@settings(
    max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(command=st.sampled_from(COMMANDS), argv=args)
def test_any_arguments_give_a_status_and_one_line(
    monkeypatch: pytest.MonkeyPatch, command: str, argv: list[str]
) -> None:
    _no_network(monkeypatch)
    full = [command, *argv]
    code, err = _run(full)
    _assert_clean(full, code, err)


@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    command=st.sampled_from(["run", "sim"]),
    content=st.binary(max_size=200)
    | st.text(max_size=200).map(str.encode)
    | st.sampled_from(
        [b"\xff\xfe\x00", b"site: [\n", b"- - -", b"site: x\ndevices: 7\n", b"[" * 5000]
    ),
)
def test_any_file_gives_a_status_and_one_line(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path_factory: pytest.TempPathFactory,
    command: str,
    content: bytes,
) -> None:
    _no_network(monkeypatch)
    path = tmp_path_factory.mktemp("fuzz") / "file.yaml"
    path.write_bytes(content)
    code, err = _run([command, str(path)])
    _assert_clean([command, repr(content)], code, err)
    assert code != 0, "no such file is a good config"


@pytest.mark.parametrize(
    ("argv", "code", "says"),
    [
        (["probe", "not..an..ip"], 2, "not an IP address or host name"),
        (["probe", "127.0.160.1", "--timeout", "-1"], 2, "--timeout"),
        (["probe", "127.0.160.1", "--timeout", "nan"], 2, "--timeout"),
        (["gpu-agent", "--listen", "banana"], 2, "cannot listen on 'banana'"),
        (["gpu-agent", "--log-level", "LOUD"], 2, "not a log level"),
        (["sim", "x.yaml", "--log-level", "verbose"], 2, "not a log level"),
        (["run", "x.yaml", "--log-level", "verbose"], 2, "not a log level"),
        (["sim", "x.yaml", "--speed", "0"], 2, "--speed"),
        (["banana"], 2, "unknown command"),
    ],
)
def test_named_mistakes_are_one_line(
    monkeypatch: pytest.MonkeyPatch, argv: list[str], code: int, says: str
) -> None:
    _no_network(monkeypatch)
    got, err = _run(argv)
    assert got == code, err
    assert says in err
    assert len(err.strip().splitlines()) == 1, err


def test_binary_files_are_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _no_network(monkeypatch)
    path = tmp_path / "binary.yaml"
    path.write_bytes(bytes(range(256)) * 4)
    for command in ("run", "sim"):
        code, err = _run([command, str(path)])
        assert code == 2, err
        assert "not UTF-8" in err


def test_log_levels_are_the_same_names_everywhere(monkeypatch: pytest.MonkeyPatch) -> None:
    _no_network(monkeypatch)
    for command in ("run", "sim", "gpu-agent", "probe", "demo"):
        with _captured() as (out, _), contextlib.suppress(SystemExit):
            main([command, "--help"])
        assert "debug, info, warning, error" in out.getvalue(), command


def test_version(monkeypatch: pytest.MonkeyPatch) -> None:
    with _captured() as (out, _):
        assert main(["--version"]) == 0
    assert out.getvalue().startswith("hashpivot ")


def test_gpu_agent_help_names_its_default_once() -> None:
    with _captured() as (out, _), contextlib.suppress(SystemExit):
        main(["gpu-agent", "--help"])
    text = " ".join(out.getvalue().split())
    assert "default 127.0.0.1:9862" in text
    assert "127.0.0.1:127.0.0.1" not in text


def test_probe_message_names_no_library_internals() -> None:
    """The real probe, against an address in this test's prefix where nothing listens."""
    code, err = _run(["probe", "127.0.160.250", "--timeout", "1"])
    assert code == 3
    assert "ConnectionKey" not in err
    assert "ClientConnectorError" not in err
    assert "web :80" in err
