"""A small parser for the Prometheus text exposition format (what dcgm-exporter serves).

Samples only: ``# HELP``/``# TYPE`` and other comments are skipped, as are
timestamps. Label values may hold escaped ``\\``, ``\"`` and ``\n``. Anything else
malformed raises :class:`PromParseError` with the line number; nothing else escapes.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

__all__ = ["PromParseError", "Sample", "parse_samples", "render_samples"]

_NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
_LABEL = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")
_SPECIAL = {"NaN": math.nan, "+Inf": math.inf, "-Inf": -math.inf, "Inf": math.inf}
_UNESCAPE = {"\\": "\\", '"': '"', "n": "\n"}


class PromParseError(ValueError):
    def __init__(self, line: int, message: str) -> None:
        super().__init__(f"line {line}: {message}")
        self.line = line


@dataclass(frozen=True, slots=True)
class Sample:
    name: str
    labels: tuple[tuple[str, str], ...]
    value: float

    def label(self, key: str) -> str | None:
        for name, value in self.labels:
            if name == key:
                return value
        return None


def _labels(text: str, pos: int, lineno: int) -> tuple[tuple[tuple[str, str], ...], int]:
    """Parse from just after ``{``; return the labels and the index just after ``}``."""
    labels: list[tuple[str, str]] = []
    while True:
        while pos < len(text) and text[pos] in " \t":
            pos += 1
        if pos < len(text) and text[pos] == "}":
            return tuple(labels), pos + 1
        match = _LABEL.match(text, pos)
        if match is None:
            raise PromParseError(lineno, f"bad label name at column {pos + 1}")
        key, pos = match.group(), match.end()
        if text[pos : pos + 2] != '="':
            raise PromParseError(lineno, f'label {key} needs ="value"')
        pos += 2
        chars: list[str] = []
        while True:
            if pos >= len(text):
                raise PromParseError(lineno, f"label {key}: unterminated value")
            char = text[pos]
            if char == "\\":
                escaped = _UNESCAPE.get(text[pos + 1 : pos + 2])
                if escaped is None:
                    raise PromParseError(lineno, f"label {key}: bad escape")
                chars.append(escaped)
                pos += 2
            elif char == '"':
                pos += 1
                break
            else:
                chars.append(char)
                pos += 1
        labels.append((key, "".join(chars)))
        while pos < len(text) and text[pos] in " \t":
            pos += 1
        if pos < len(text) and text[pos] == ",":
            pos += 1
        elif not (pos < len(text) and text[pos] == "}"):
            raise PromParseError(lineno, f"expected , or }} after label {key}")


def _value(text: str, lineno: int) -> float:
    fields = text.split(" ") if "\t" not in text else text.replace("\t", " ").split(" ")
    fields = [f for f in fields if f]
    if not 1 <= len(fields) <= 2:
        raise PromParseError(lineno, "expected a value and an optional timestamp")
    raw = fields[0]
    if raw in _SPECIAL:
        return _SPECIAL[raw]
    if not re.fullmatch(r"[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?", raw):
        raise PromParseError(lineno, f"{raw!r} is not a number")
    return float(raw)


def parse_samples(text: str) -> list[Sample]:
    samples: list[Sample] = []
    # Only \n ends a line: str.splitlines() would also split on \x1e, \x85 and friends,
    # which may sit inside a label value.
    for lineno, line in enumerate(text.split("\n"), start=1):
        stripped = line.strip(" \t\r")
        if not stripped or stripped.startswith("#"):
            continue
        match = _NAME.match(stripped)
        if match is None:
            raise PromParseError(lineno, "a sample line must start with a metric name")
        name, pos = match.group(), match.end()
        labels: tuple[tuple[str, str], ...] = ()
        if pos < len(stripped) and stripped[pos] == "{":
            labels, pos = _labels(stripped, pos + 1, lineno)
        if pos < len(stripped) and stripped[pos] not in " \t":
            raise PromParseError(lineno, "expected a space before the value")
        samples.append(Sample(name, labels, _value(stripped[pos:], lineno)))
    return samples


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def render_samples(samples: list[Sample]) -> str:
    """The inverse of :func:`parse_samples` (for tests and fixtures)."""
    lines = []
    for sample in samples:
        labels = ",".join(f'{k}="{_escape(v)}"' for k, v in sample.labels)
        value = (
            repr(sample.value)
            if math.isfinite(sample.value)
            else ("NaN" if math.isnan(sample.value) else ("+Inf" if sample.value > 0 else "-Inf"))
        )
        lines.append(f"{sample.name}{{{labels}}} {value}" if labels else f"{sample.name} {value}")
    return "\n".join(lines) + "\n"
