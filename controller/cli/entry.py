"""The ``hashpivot`` command line: one entry point, a subcommand per job."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from importlib.metadata import PackageNotFoundError, version

__all__ = ["main"]

_DESCRIPTION = """\
hashpivot: one power budget across Bitcoin miners and AI GPU nodes.

Common jobs:
  hashpivot demo                                       the example site under the controller
  hashpivot sim deploy/examples/site-small.yaml        run a simulated site
  hashpivot run deploy/examples/hashpivot-small.yaml   run the controller
  hashpivot probe 10.0.0.21                            identify one device
  hashpivot gpu-agent --listen 10.0.5.7:9862           on a GPU node: NVML behind an API
  hashpivot backtest deploy/examples/site-small.yaml   replay Aug 2023 prices, compare strategies

Each command takes --help. Exit status 2 is a usage or configuration error.
"""


def _version() -> str:
    try:
        return version("hashpivot")
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "unknown (not installed)"


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(
        prog="hashpivot",
        description=_DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "command",
        choices=["run", "sim", "probe", "demo", "gpu-agent", "backtest"],
        help="what to do",
    )
    parser.add_argument("--version", action="version", version=f"hashpivot {_version()}")
    if args and args[0] == "--version":
        print(f"hashpivot {_version()}")
        return 0
    if not args or args[0] in {"-h", "--help"}:
        parser.print_help()
        return 0 if args else 2
    command, rest = args[0], args[1:]
    if command == "sim":
        from simulators.cli import main as sim_main  # noqa: PLC0415 - the daemon never loads simulators

        return sim_main(rest)
    if command == "run":
        from controller.app import main as run_main  # noqa: PLC0415

        return run_main(rest)
    if command == "probe":
        from controller.cli.probe import main as probe_main  # noqa: PLC0415

        return probe_main(rest)
    if command == "gpu-agent":
        from drivers.gpu_agent.cli import main as agent_main  # noqa: PLC0415 - runs on GPU nodes only

        return agent_main(rest)
    if command == "backtest":
        from controller.backtest.cli import main as backtest_main  # noqa: PLC0415
        from controller.hil import replay  # noqa: PLC0415 - the real controller, for --hil

        return backtest_main(rest, hil=replay)
    if command == "demo":
        from controller.demo.run import main as demo_main  # noqa: PLC0415

        return demo_main(rest)
    print(
        f"hashpivot: unknown command {command!r}; choose from run, sim, probe, demo, gpu-agent"
        " (hashpivot --help)",
        file=sys.stderr,
    )
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
