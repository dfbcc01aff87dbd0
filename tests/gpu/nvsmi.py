"""A reader for ``nvidia-smi -q`` text, enough to check a recording against it.

``nvidia-smi -q`` prints an indented tree of ``Key : Value`` lines; sections are keys
with no value. :func:`parse_query` turns one GPU's tree into ``{"Section/Key": value}``.
"""

from __future__ import annotations

import re

__all__ = ["parse_query"]

_GPU_HEADER = re.compile(r"GPU ([0-9A-Fa-f]{4,8}:[0-9A-Fa-f]{2}:[0-9A-Fa-f]{2}\.[0-9A-Fa-f])\s*$")


def parse_query(text: str) -> dict[str, str]:
    """Flatten ``nvidia-smi -q`` into slash-joined paths (``"GPU Power Readings/Current
    Power Limit"``); the ``GPU <bus id>`` header becomes ``"GPU"`` with the bus id as value."""
    out: dict[str, str] = {}
    stack: list[tuple[int, str]] = []
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith("="):
            continue
        indent = len(line) - len(line.lstrip())
        if indent == 0 and (header := _GPU_HEADER.match(line)):
            out["GPU"] = header.group(1)  # a bus id, colons and all
            stack = []
            continue
        key, sep, value = line.strip().partition(":")
        key, value = key.strip(), value.strip()
        while stack and stack[-1][0] >= indent:
            stack.pop()
        path = "/".join([*(name for _, name in stack), key])
        if sep and value:
            out.setdefault(path, value)
        else:
            stack.append((indent, key))
    return out
