"""Every record (dataclass) with more than four fields is keyword-only, so that a wide record
is never built by position, where two swapped floats go unnoticed (issue 11, point 4).

Read from the source rather than imported: the check covers every module, including those
whose optional dependencies (pyasic, openleadr) this machine may lack.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("controller", "drivers", "simulators")
MOST_POSITIONAL = 4


def _dataclass_decorator(node: ast.ClassDef) -> ast.expr | None:
    for decorator in node.decorator_list:
        target = decorator.func if isinstance(decorator, ast.Call) else decorator
        if (
            getattr(target, "id", None) == "dataclass"
            or getattr(target, "attr", None) == "dataclass"
        ):
            return decorator
    return None


def _is_kw_only(decorator: ast.expr) -> bool:
    return isinstance(decorator, ast.Call) and any(
        k.arg == "kw_only" and isinstance(k.value, ast.Constant) and k.value.value is True
        for k in decorator.keywords
    )


def _init_fields(node: ast.ClassDef) -> list[str]:
    """The fields the generated ``__init__`` takes: annotated names, less ClassVars and
    ``field(init=False)``."""
    names = []
    for statement in node.body:
        if not isinstance(statement, ast.AnnAssign) or not isinstance(statement.target, ast.Name):
            continue
        if "ClassVar" in ast.unparse(statement.annotation):
            continue
        value = statement.value
        if (
            isinstance(value, ast.Call)
            and ast.unparse(value.func).endswith("field")
            and any(
                k.arg == "init" and isinstance(k.value, ast.Constant) and k.value.value is False
                for k in value.keywords
            )
        ):
            continue
        names.append(statement.target.id)
    return names


def _records() -> list[tuple[str, ast.ClassDef, ast.expr]]:
    found = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            tree = ast.parse(path.read_text(), filename=str(path))
            for node in ast.walk(tree):
                if isinstance(node, ast.ClassDef):
                    decorator = _dataclass_decorator(node)
                    if decorator is not None:
                        found.append((str(path.relative_to(ROOT)), node, decorator))
    return found


RECORDS = _records()


def test_the_walk_finds_records_in_every_package() -> None:
    for package in PACKAGES:
        assert any(where.startswith(f"{package}/") for where, _, _ in RECORDS), package


@pytest.mark.parametrize("package", PACKAGES)
def test_every_wide_record_is_keyword_only(package: str) -> None:
    wide = [
        f"{where}:{node.lineno} {node.name} ({len(_init_fields(node))} fields)"
        for where, node, decorator in RECORDS
        if where.startswith(f"{package}/")
        and len(_init_fields(node)) > MOST_POSITIONAL
        and not _is_kw_only(decorator)
    ]
    assert not wide, "records to make kw_only=True:\n" + "\n".join(wide)


def test_the_check_sees_a_positional_wide_record() -> None:
    source = (
        "from dataclasses import dataclass, field\n"
        "@dataclass(frozen=True)\n"
        "class Wide:\n"
        "    a: int\n    b: int\n    c: int\n    d: int\n    e: int\n"
        "    f: int = field(init=False)\n"
    )
    node = next(n for n in ast.walk(ast.parse(source)) if isinstance(n, ast.ClassDef))
    decorator = _dataclass_decorator(node)
    assert decorator is not None
    assert not _is_kw_only(decorator)
    assert _init_fields(node) == ["a", "b", "c", "d", "e"]
