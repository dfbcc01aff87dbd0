"""Slurm host lists: ``gpu[01-03,07],cpu1`` <-> names, without calling ``scontrol``."""

from __future__ import annotations

import re

__all__ = ["expand_hostlist"]

# More names than any Slurm cluster has nodes: a list that expands past it is garbage,
# and expanding it anyway would take the daemon's memory with it.
MAX_HOSTS = 100_000

_PART = re.compile(r"([^,\[]*)(?:\[([^\]]*)\])?([^,\[]*)")


def _ranges(spec: str) -> list[str]:
    out: list[str] = []
    for item in spec.split(","):
        lo, sep, hi = item.partition("-")
        if not sep:
            out.append(lo)
            continue
        if not (lo.isascii() and hi.isascii() and lo.isdecimal() and hi.isdecimal()):
            raise ValueError(f"bad host range {item!r}")
        if int(hi) - int(lo) + len(out) >= MAX_HOSTS:
            raise ValueError(f"host range {item!r} is longer than {MAX_HOSTS:,} names")
        out.extend(f"{n:0{len(lo)}d}" for n in range(int(lo), int(hi) + 1))
    return out


def expand_hostlist(text: str) -> tuple[str, ...]:
    """``"gpu[01-02,05],login"`` -> ``("gpu01", "gpu02", "gpu05", "login")``; ``""`` -> ()."""
    names: list[str] = []
    pos = 0
    text = text.strip()
    while pos < len(text):
        match = _PART.match(text, pos)
        if match is None or match.end() == pos:
            raise ValueError(f"bad host list {text!r}")
        prefix, spec, suffix = match.groups()
        if spec is None:
            names.append(prefix + suffix)
        else:
            names.extend(prefix + n + suffix for n in _ranges(spec))
        if len(names) > MAX_HOSTS:
            raise ValueError(f"host list longer than {MAX_HOSTS:,} names")
        pos = match.end()
        if pos < len(text):
            if text[pos] != ",":
                raise ValueError(f"bad host list {text!r}")
            pos += 1
    return tuple(n for n in names if n)
