"""What btminer keeps (power mode, limit, percentage, on/off, LED, pools, API switch)
and what each write does to the physics; shared by API v2 and v3.

Whatsminer semantics (docs/protocols.md §2, §4): power_off stays off until power_on, with
a residual draw; a power limit change restarts mining (power dips, then ramps); a
percentage is temporary and applies without a restart; no limit may exceed the
standard power.
"""

from __future__ import annotations

import logging
import math
import secrets
import string
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from simulators.clock import SimClock
from simulators.device import PoolEntry
from simulators.physics import MinerPhysics, WorkMode
from simulators.whatsminer.crypto import md5_crypt_field
from simulators.whatsminer.models import WhatsminerModel

__all__ = [
    "DEFAULT_POOLS",
    "PowerMode",
    "TokenStore",
    "V2Token",
    "WhatsminerControl",
    "WhatsminerQuirk",
    "standard_power_w",
]

_log = logging.getLogger(__name__)


class WhatsminerQuirk(StrEnum):
    JSON_BUGS = "json_bugs"  # v2 replies with `,}`, a raw newline in a string, a missing comma
    POWER_MODE_NO_REPLY = "power_mode_no_reply"  # set_*_power apply but never answer


class PowerMode(StrEnum):
    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"

    @property
    def work_mode(self) -> WorkMode:
        return {
            PowerMode.LOW: WorkMode.LOW_POWER,
            PowerMode.NORMAL: WorkMode.NORMAL,
            PowerMode.HIGH: WorkMode.HIGH_POWER,
        }[self]


DEFAULT_POOLS: tuple[PoolEntry, ...] = (
    PoolEntry("stratum+tcp://pool.example.invalid:3333", "hashpivot.sim", "x"),
    PoolEntry("stratum+tcp://backup.example.invalid:3333", "hashpivot.sim", "x"),
    PoolEntry("stratum+tcp://backup2.example.invalid:3333", "hashpivot.sim", "x"),
)

MIN_POWER_LIMIT_W = 500


def standard_power_w(spec: WhatsminerModel) -> int:
    """The highest power limit the unit accepts (its nameplate, rounded up)."""
    return int(math.ceil(spec.nameplate_w / 100.0) * 100)


class WhatsminerControl:
    """The settings of one unit, and the physical effect of every write."""

    def __init__(
        self,
        address: str,
        spec: WhatsminerModel,
        physics: MinerPhysics,
        clock: SimClock,
        *,
        power_mode: PowerMode,
        power_limit_w: int | None,
        pools: tuple[PoolEntry, ...],
        mineroff: bool,
        keeps_hashing: Callable[[], bool],
    ) -> None:
        self._address = address
        self.spec = spec
        self._physics = physics
        self._clock = clock
        self._keeps_hashing = keeps_hashing
        self.power_mode = power_mode
        self.power_limit_w = power_limit_w or standard_power_w(spec)
        self.percent: int | None = None
        self.mineroff = mineroff
        self.mineroff_time = ""
        self.led_manual = False
        self.pools = pools
        self.fast_boot = False
        self.poweroff_cool = False
        self.upfreq_speed = 0
        self.target_freq_pct = 0
        self._physics.set_power_cap(self._cap(), restart=False, instant=True)

    # ---- writes ---------------------------------------------------------------------

    def power_off(self) -> None:
        if self.mineroff:
            return
        self.mineroff = True
        self.mineroff_time = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(self._clock.unix()))
        _log.info("%s: power_off", self._address)
        if not self._keeps_hashing():
            self._physics.set_mode(WorkMode.SLEEP)

    def power_on(self) -> None:
        if not self.mineroff:
            return
        self.mineroff = False
        self.mineroff_time = ""
        _log.info("%s: power_on", self._address)
        self._physics.set_mode(self.power_mode.work_mode)

    def set_power_mode(self, mode: PowerMode) -> None:
        if mode is self.power_mode:
            return
        _log.info("%s: power mode %s -> %s", self._address, self.power_mode, mode)
        self.power_mode = mode
        self.percent = None
        self._physics.set_power_cap(self._cap(), restart=False)
        if not self.mineroff:
            self._physics.set_mode(mode.work_mode)

    def set_power_limit(self, watts: int) -> str | None:
        """Apply a limit (mining restarts); the refusal message if it is out of range."""
        top = standard_power_w(self.spec)
        if not MIN_POWER_LIMIT_W <= watts <= top:
            return f"power limit must be {MIN_POWER_LIMIT_W}-{top}"
        _log.info("%s: power limit %d W, restarting mining", self._address, watts)
        self.power_limit_w = watts
        self.percent = None
        self._physics.set_power_cap(self._cap(), restart=not self.mineroff)
        return None

    def set_percent(self, percent: int) -> str | None:
        """A temporary percentage of the current power, applied without a restart."""
        if not 0 <= percent <= 100:
            return "percent must be 0-100"
        _log.info("%s: power percent %d", self._address, percent)
        self.percent = None if percent in {0, 100} else percent
        self._physics.set_power_cap(self._cap(), restart=False)
        return None

    def restart_mining(self) -> None:
        _log.info("%s: btminer restart", self._address)
        self._physics.restart_mining()

    def _cap(self) -> float:
        spec = self._physics.spec
        mode_power = {
            PowerMode.LOW: spec.nameplate_w * spec.low_power_power,
            PowerMode.NORMAL: spec.nameplate_w,
            PowerMode.HIGH: spec.nameplate_w * spec.high_power_power,
        }[self.power_mode]
        cap = min(float(self.power_limit_w), mode_power)
        return cap * self.percent / 100 if self.percent else cap


@dataclass(frozen=True, slots=True)
class V2Token:
    time: str
    salt: str
    newsalt: str
    sign: str


class TokenStore:
    """API v2 tokens: each get_token issues a sign, valid for ``ttl_s`` real seconds.

    Real seconds, not simulated: clients (pyasic) cache a token by their own clock
    for 30 minutes. At most ``max_live`` signs are valid at once; beyond that
    get_token is refused (code 136) until one expires.
    """

    def __init__(
        self, password: str, salt: str, *, ttl_s: float = 1800.0, max_live: int = 32
    ) -> None:
        self.salt = salt
        self.ttl_s = ttl_s
        self.max_live = max_live
        self._live: dict[str, float] = {}  # sign -> expiry (time.monotonic)
        self.set_password(password)

    def set_password(self, password: str) -> None:
        self.password = password
        self.key_field = md5_crypt_field(password, self.salt)
        self._live.clear()  # a new password invalidates every sign

    def _prune(self) -> None:
        now = time.monotonic()
        for sign in [s for s, expiry in self._live.items() if expiry <= now]:
            del self._live[sign]

    def issue(self, unix_now: float) -> V2Token | None:
        self._prune()
        if len(self._live) >= self.max_live:
            return None
        stamp = str(int(unix_now))[-4:]
        newsalt = random_salt()
        sign = md5_crypt_field(self.key_field + stamp, newsalt)
        self._live[sign] = time.monotonic() + self.ttl_s
        return V2Token(stamp, self.salt, newsalt, sign)

    def valid(self, sign: object) -> bool:
        self._prune()
        return isinstance(sign, str) and sign in self._live


def random_salt(length: int = 8) -> str:
    alphabet = string.ascii_letters + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(length))
