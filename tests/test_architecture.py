"""Checks of the architecture that import-linter cannot state (docs/architecture.md).

import-linter checks the layers and the independence of the make packages; it has no
contract for "no cycle at all", and it looks at imports, not at what an import loads.
``make lint`` runs this file.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path

import grimp
import pytest

ROOT = Path(__file__).resolve().parent.parent


def _cycles(graph: grimp.ImportGraph, modules: Iterable[str]) -> Iterator[list[str]]:
    """The strongly connected components of more than one module (Tarjan, iteratively),
    over the imports among ``modules``."""
    inside = set(modules)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    for root in sorted(inside):
        if root in index:
            continue
        work = [(root, iter(sorted(graph.find_modules_directly_imported_by(root) & inside)))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    imported = graph.find_modules_directly_imported_by(child) & inside
                    work.append((child, iter(sorted(imported))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    yield sorted(component)


def _simulator_make_packages() -> list[str]:
    folder = ROOT / "simulators"
    return sorted(
        f"simulators.{entry.name}"
        for entry in folder.iterdir()
        if entry.is_dir() and (entry / "make.py").is_file()
    )


def _package_modules(graph: grimp.ImportGraph, package: str) -> set[str]:
    return {package, *graph.find_descendants(package)}


def test_the_controller_has_no_import_cycle() -> None:
    """Imports under ``if TYPE_CHECKING`` count: a cycle for the type checker is still two
    modules that cannot be understood, changed or moved one without the other."""
    graph = grimp.build_graph("controller", cache_dir=None)
    found = list(_cycles(graph, _package_modules(graph, "controller")))
    assert found == [], f"import cycles in controller/: {found}"


@pytest.mark.parametrize("package", _simulator_make_packages())
def test_no_simulator_make_package_has_an_import_cycle(package: str) -> None:
    """Type-checking imports count here too: a make's services read the interface the
    device implements (``unit.py``, ``node.py``), not the device that imports them."""
    graph = grimp.build_graph("simulators", cache_dir=None)
    found = list(_cycles(graph, _package_modules(graph, package)))
    assert found == [], f"import cycles in {package}: {found}"


def test_the_cycle_finder_finds_a_cycle() -> None:
    """The check above is only as good as the finder: it must see a two-module cycle."""
    graph = grimp.ImportGraph()
    for name in ("p", "p.a", "p.b", "p.c"):
        graph.add_module(name)
    graph.add_import(importer="p.a", imported="p.b")
    graph.add_import(importer="p.b", imported="p.a")
    graph.add_import(importer="p.c", imported="p.a")
    assert list(_cycles(graph, ["p.a", "p.b", "p.c"])) == [["p.a", "p.b"]]


def test_importing_the_policy_loads_no_io() -> None:
    """The policy is a pure function: loading it must not load an event loop, sockets or an
    HTTP stack (the backtest and the benchmarks import it in processes that have none)."""
    code = (
        "import sys\n"
        "import controller.policy\n"
        "loaded = sorted(m for m in ('asyncio', 'socket', 'aiohttp', 'ssl', 'selectors')"
        " if m in sys.modules)\n"
        "print(','.join(loaded))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    )
    assert done.stdout.strip() == ""
