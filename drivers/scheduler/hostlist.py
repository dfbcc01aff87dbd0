"""Slurm host lists: ``gpu[01-03,07],cpu1`` <-> names, without calling ``scontrol``."""

from __future__ import annotations

import re

__all__ = ["expand_hostlist"]

_PART = re.compile(r"([^,\[]*)(?:\[([^\]]*)\])?([^,\[]*)")


def _ranges(spec: str) -> list[str]:
    out: list[str] = []
    for item in spec.split(","):
        lo, sep, hi = item.partition("-")
        if not sep:
            out.append(lo)
            continue
        width = len(lo)
        out.extend(f"{n:0{width}d}" for n in range(int(lo), int(hi) + 1))
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
        pos = match.end()
        if pos < len(text):
            if text[pos] != ",":
                raise ValueError(f"bad host list {text!r}")
            pos += 1
    return tuple(n for n in names if n)
