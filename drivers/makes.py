"""Which make packages this install has, read from the package tree without importing them.

A make is one package under ``drivers/`` with a ``make.py`` module that registers it
(see docs/adding-a-make.md). The list is read from the files so that :class:`drivers.types.Make`
can be built before any make is imported: the policy engine uses ``Make`` and must not load
a driver (and with it asyncio and sockets) to learn the names.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["REGISTRATION_MODULE", "make_package_names"]

REGISTRATION_MODULE = "make"  # drivers/<make>/make.py holds the make's SPEC


def make_package_names() -> tuple[str, ...]:
    """The make packages, sorted by name."""
    root = Path(__file__).parent
    return tuple(
        sorted(
            entry.name
            for entry in root.iterdir()
            if entry.is_dir() and (entry / f"{REGISTRATION_MODULE}.py").is_file()
        )
    )
