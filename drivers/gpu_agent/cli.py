"""``hashpivot gpu-agent``: serve one GPU node's NVML over HTTP, or dump it to a file.

Exit status: 0 after a clean stop, 2 for a usage or configuration error, 3 when
there is no NVML here (no driver or no GPU) and ``--simulated`` was not given.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import socket
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

from aiohttp import web

from drivers.errors import DriverError
from drivers.gpu.errors import NvmlUnavailable
from drivers.gpu_agent.nvml import GpuNode, NvmlBackend
from drivers.gpu_agent.recorded import dump_node
from drivers.gpu_agent.server import DEFAULT_PORT, make_app

__all__ = ["TOKEN_ENV", "main", "parse_listen"]

_log = logging.getLogger(__name__)

TOKEN_ENV = "HASHPIVOT_GPU_AGENT_TOKEN"  # noqa: S105 - a variable name, not a secret
EXIT_USAGE = 2
EXIT_NO_NVML = 3


def parse_listen(value: str) -> tuple[str, int]:
    """``HOST:PORT``, ``[V6]:PORT`` or ``HOST`` (port 9862)."""
    host, port_text = value, str(DEFAULT_PORT)
    if value.startswith("["):
        host, _, rest = value[1:].partition("]")
        port_text = rest.removeprefix(":") if rest else port_text
    elif value.count(":") == 1:
        host, _, port_text = value.partition(":")
    if not host or not port_text.isascii() or not port_text.isdigit():
        raise ValueError(f"bad listen address {value!r}: expected HOST:PORT")
    port = int(port_text)
    if not 0 <= port < 65536:
        raise ValueError(f"bad listen address {value!r}: port out of range")
    return host, port


def _listen(value: str) -> tuple[str, int]:
    """--listen, resolved before anything is logged: a name that does not resolve is a
    usage error, not a "listening on" line followed by a failure."""
    try:
        host, port = parse_listen(value)
        socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    except (OSError, UnicodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise argparse.ArgumentTypeError(f"cannot listen on {value!r}: {reason}") from None
    return host, port


class _Parser(argparse.ArgumentParser):
    """Usage errors on one line (exit status 2), as every hashpivot command gives them."""

    def error(self, message: str) -> NoReturn:
        text = "".join(c if c.isprintable() else repr(c)[1:-1] for c in message)
        self.exit(EXIT_USAGE, f"{self.prog}: {text} (see {self.prog} --help)\n")


_LOG_LEVELS = ("debug", "info", "warning", "error")  # as `hashpivot run` and `sim` name them


def _log_level(text: str) -> str:
    if text.lower() not in _LOG_LEVELS:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a log level; choose from {', '.join(_LOG_LEVELS)}"
        )
    return text.lower()


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="hashpivot gpu-agent",
        description="Serve this node's GPUs (NVML) over HTTP: readings, power limits.",
    )
    parser.add_argument(
        "--listen",
        type=_listen,
        default=("127.0.0.1", DEFAULT_PORT),
        metavar="HOST:PORT",
        help=f"address to bind (default 127.0.0.1:{DEFAULT_PORT}; never all interfaces unless "
        "told)",
    )
    parser.add_argument(
        "--token-file",
        type=Path,
        help=f"file holding the bearer token for writes (or ${TOKEN_ENV})",
    )
    parser.add_argument(
        "--simulated",
        nargs="?",
        const="H200",
        choices=["H100", "H200"],
        help="serve a simulated 8-GPU node instead of NVML (default model H200)",
    )
    parser.add_argument(
        "--dump-node",
        type=Path,
        metavar="FILE",
        help="read every GPU once, write the raw NVML answers to FILE as a fixture, and exit",
    )
    parser.add_argument(
        "--log-level",
        type=_log_level,
        default="info",
        metavar="LEVEL",
        help=f"{', '.join(_LOG_LEVELS)} (default info)",
    )
    return parser


def _token(args: argparse.Namespace) -> str | None:
    if args.token_file is not None:
        return str(args.token_file.read_text(encoding="utf-8")).strip() or None
    return os.environ.get(TOKEN_ENV, "").strip() or None


def _backend(args: argparse.Namespace) -> NvmlBackend:
    if args.simulated:
        from drivers.gpu_agent.nvml_sim import SimulatedNvml  # noqa: PLC0415

        return SimulatedNvml(args.simulated)
    from drivers.gpu_agent.nvml_pynvml import PynvmlBackend  # noqa: PLC0415 - pynvml only when used

    # A dump reads every field at one moment; a serving agent refreshes the slow ones aside.
    return PynvmlBackend(slow_refresh_s=None if args.dump_node is not None else 1.0)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(
        level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    host, port = args.listen
    try:
        token = _token(args)
    except (ValueError, OSError) as exc:
        print(f"gpu-agent: {exc}", file=sys.stderr)
        return EXIT_USAGE
    try:
        backend = _backend(args)
    except NvmlUnavailable as exc:
        print(
            f"gpu-agent: NVML is not available on this host ({exc.message}): it needs the "
            "NVIDIA driver and at least one GPU; --simulated serves a simulated 8-GPU node",
            file=sys.stderr,
        )
        return EXIT_NO_NVML
    try:
        if args.dump_node is not None:
            document = dump_node(backend, note="hashpivot gpu-agent --dump-node")
            args.dump_node.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
            print(f"gpu-agent: wrote {len(document['gpus'])} GPUs to {args.dump_node}")
            return 0
        if token is None:
            _log.warning("no token (--token-file or $%s): power-limit writes are off", TOKEN_ENV)
        app = make_app(GpuNode(backend), token=token)
        kind = backend.kind

        def started(_banner: str) -> None:  # run_app calls it once the socket is bound
            _log.info("gpu-agent (%s backend) listening on %s:%s", kind, host, port)

        web.run_app(app, host=host, port=port, print=started, access_log=None)
    except DriverError as exc:
        print(f"gpu-agent: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except OSError as exc:
        print(f"gpu-agent: cannot listen on {host}:{port}: {exc}", file=sys.stderr)
        return EXIT_USAGE
    finally:
        backend.close()
    return 0
