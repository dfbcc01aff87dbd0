"""What FluxOS keeps (mode, sleep, targets, LED, fan, pools, tokens) and what each
write does to the physics.

FluxOS semantics (docs/protocols.md §3, §4): sleep on/off curtails and wakes; presets
eco/normal/turbo; custom mode tunes to a power target (which caps power) or a
hashrate target, re-tuning without a restart; standby keeps the fans at 20%.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import secrets
import time
from collections.abc import Callable
from enum import StrEnum

from simulators.device import PoolEntry
from simulators.physics import MinerPhysics, Phase, WorkMode

__all__ = [
    "DEFAULT_POOLS",
    "AuradineControl",
    "AuradineMode",
    "LedCode",
    "RestTokens",
]

_log = logging.getLogger(__name__)

DEFAULT_POOLS: tuple[PoolEntry, ...] = (
    PoolEntry("stratum+tcp://pool.example.invalid:3333", "hashpivot.sim", "x"),
    PoolEntry("stratum+tcp://backup.example.invalid:3333", "hashpivot.sim", "x"),
    PoolEntry("stratum+tcp://backup2.example.invalid:3333", "hashpivot.sim", "x"),
)


class AuradineMode(StrEnum):
    NORMAL = "normal"
    ECO = "eco"
    TURBO = "turbo"
    CUSTOM = "custom"

    @property
    def work_mode(self) -> WorkMode:
        if self is AuradineMode.ECO:
            return WorkMode.LOW_POWER
        if self is AuradineMode.TURBO:
            return WorkMode.HIGH_POWER
        return WorkMode.NORMAL


class LedCode:
    NORMAL = 2
    LOCATE = 3
    TUNING = 12
    STANDBY = 13
    WARMING = 15
    MESSAGES = {2: "Normal", 3: "Locate", 12: "Tuning", 13: "Standby", 15: "Warming"}


class AuradineControl:
    def __init__(
        self,
        address: str,
        physics: MinerPhysics,
        *,
        mode: AuradineMode,
        sleep: bool,
        power_target_w: int | None,
        pools: tuple[PoolEntry, ...],
        keeps_hashing: Callable[[], bool],
    ) -> None:
        self._address = address
        self._physics = physics
        self._keeps_hashing = keeps_hashing
        self.mode = mode
        self.sleep = sleep
        self.tune: str | None = "power" if power_target_w else None
        self.power_target_w = power_target_w
        self.ths_target: float | None = None
        self.locate = False
        self.fan_pct: int | None = None
        self.pools = pools
        self._physics.set_power_cap(self._cap(), restart=False, instant=True)

    # ---- writes ---------------------------------------------------------------------

    def set_sleep(self, on: bool) -> None:
        if on == self.sleep:
            return
        self.sleep = on
        _log.info("%s: sleep %s", self._address, "on" if on else "off")
        if on and self._keeps_hashing():
            return
        self._physics.set_mode(WorkMode.SLEEP if on else self.mode.work_mode)

    def set_preset(self, mode: AuradineMode) -> None:
        _log.info("%s: mode %s", self._address, mode)
        self.mode = mode
        self.tune = None
        self.power_target_w = None
        self.ths_target = None
        self._apply()

    def set_power_target(self, watts: int) -> None:
        _log.info("%s: custom power target %d W", self._address, watts)
        self.mode, self.tune = AuradineMode.CUSTOM, "power"
        self.power_target_w, self.ths_target = watts, None
        self._apply()

    def set_ths_target(self, ths: float) -> None:
        _log.info("%s: custom hashrate target %g TH/s", self._address, ths)
        self.mode, self.tune = AuradineMode.CUSTOM, "ths"
        self.power_target_w, self.ths_target = None, ths
        self._apply()

    def set_fan(self, percent: int | None) -> None:
        self.fan_pct = percent
        self._physics.set_manual_fan(percent)

    def _apply(self) -> None:
        self._physics.set_power_cap(self._cap(), restart=False)
        if not self.sleep:
            self._physics.set_mode(self.mode.work_mode)

    def _cap(self) -> float | None:
        spec = self._physics.spec
        if self.tune == "power" and self.power_target_w:
            return float(self.power_target_w)
        if self.tune == "ths" and self.ths_target is not None and spec.nameplate_hs:
            fraction = self.ths_target * 1e12 / spec.nameplate_hs
            return float(spec.nameplate_w * fraction ** (1.0 / spec.cap_exponent))
        return None

    # ---- reads ----------------------------------------------------------------------

    def led_code(self) -> int:
        if self.locate:
            return LedCode.LOCATE
        phase = self._physics.phase()
        if self.sleep or phase in {Phase.SLEEP, Phase.STOPPING}:
            return LedCode.STANDBY
        if phase is Phase.BOOTING:
            return LedCode.WARMING
        if phase is Phase.RAMPING:
            return LedCode.TUNING
        return LedCode.NORMAL

    def mode_targets(self) -> tuple[int, int]:
        """``Mode[0].Power`` and ``Ths``: the targets in custom mode, else the preset's."""
        hash_hs, power_w = self._physics.level(self.mode.work_mode)
        power = self.power_target_w if self.tune == "power" and self.power_target_w else power_w
        ths = self.ths_target if self.tune == "ths" and self.ths_target else hash_hs / 1e12
        return round(power), round(ths)


class RestTokens:
    """FluxOS REST tokens: JWT-shaped, valid for ``ttl_s`` real seconds after login."""

    def __init__(self, username: str, password: str, *, ttl_s: float = 3600.0) -> None:
        self.username = username
        self.password = password
        self.ttl_s = ttl_s
        self._key = secrets.token_bytes(16)
        self._expiry: dict[str, float] = {}

    def login(self, username: object, password: object) -> str | None:
        if username != self.username or password != self.password:
            return None
        now = time.monotonic()
        for token in [t for t, exp in self._expiry.items() if exp <= now]:
            del self._expiry[token]

        def b64(data: bytes) -> str:
            return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

        header = b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
        claims = {
            "sub": self.username,
            "exp": int(time.time() + self.ttl_s),
            "jti": secrets.token_hex(6),
        }
        body = b64(json.dumps(claims).encode())
        mac = hmac.new(self._key, f"{header}.{body}".encode(), hashlib.sha256).digest()
        token = f"{header}.{body}.{b64(mac)}"
        self._expiry[token] = now + self.ttl_s
        return token

    def check(self, token: str | None) -> str | None:
        """None when valid, else why not ("missing", "invalid", "expired")."""
        if not token:
            return "missing"
        expiry = self._expiry.get(token)
        if expiry is None:
            return "invalid"
        if expiry <= time.monotonic():
            return "expired"
        return None

    def expire_all(self) -> None:
        """Scenario verb: every issued token expires now (tests of re-authentication)."""
        self._expiry = dict.fromkeys(self._expiry, 0.0)
