"""What the engine remembers between plans, passed in and handed back explicitly.

Hysteresis needs to know how many price windows in a row each lever class has
spent above or below its break-even, and the relay latch must survive restarts.
Keeping that here, as plain JSON-serialisable data, keeps :func:`plan` a pure
function the control loop can persist and replay.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from controller.policy.errors import InvalidMemory

__all__ = ["LeverMemory", "PolicyMemory"]

_VERSION = 1


@dataclass(frozen=True, slots=True)
class LeverMemory:
    """Hysteresis state of one lever class (e.g. every S19j Pro's run lever)."""

    curtailed: bool = False  # the economic decision currently latched
    windows_above: int = 0  # consecutive windows the price sat above the class's value
    windows_below: int = 0  # consecutive windows the price sat below it


@dataclass(frozen=True, slots=True)
class PolicyMemory:
    last_price_at: float | None = None  # as_of of the last price window counted
    levers: tuple[tuple[str, LeverMemory], ...] = ()  # sorted by key
    relay_latched_at: float | None = None

    def lever_map(self) -> Mapping[str, LeverMemory]:
        return dict(self.levers)

    def to_json(self) -> str:
        return json.dumps(
            {
                "version": _VERSION,
                "last_price_at": self.last_price_at,
                "relay_latched_at": self.relay_latched_at,
                "levers": {
                    key: [m.curtailed, m.windows_above, m.windows_below] for key, m in self.levers
                },
            },
            sort_keys=True,
        )

    @classmethod
    def from_json(cls, text: str) -> PolicyMemory:
        try:
            raw = json.loads(text)
            return cls._from_dict(raw)
        except (ValueError, TypeError, KeyError) as exc:
            raise InvalidMemory(f"cannot decode policy memory: {exc}") from exc

    @classmethod
    def _from_dict(cls, raw: dict[str, Any]) -> PolicyMemory:
        if raw.get("version") != _VERSION:
            raise InvalidMemory(f"unsupported policy memory version {raw.get('version')!r}")
        levers = []
        for key, (curtailed, above, below) in sorted(raw["levers"].items()):
            if not isinstance(curtailed, bool) or int(above) < 0 or int(below) < 0:
                raise InvalidMemory(f"bad hysteresis state for {key!r}")
            levers.append((str(key), LeverMemory(curtailed, int(above), int(below))))
        return cls(
            last_price_at=_optional_time(raw.get("last_price_at")),
            levers=tuple(levers),
            relay_latched_at=_optional_time(raw.get("relay_latched_at")),
        )


def _optional_time(value: object) -> float | None:
    if value is None:
        return None
    if not isinstance(value, int | float) or not math.isfinite(value):
        raise InvalidMemory(f"bad timestamp {value!r}")
    return float(value)
