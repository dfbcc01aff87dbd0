"""NVML answers too slow for every read, refreshed off the read path.

On the real H200 (driver 580.159.04, ``bench/results/gpu_read_path_h200/``) nearly every NVML
call a read makes costs 1-8 us, but two cost far more: the energy counter
(``nvmlDeviceGetTotalEnergyConsumption``, about 3 ms) and the requested power limit
(``nvmlDeviceGetPowerManagementLimit``, about 165 us). Reading them on every request made
one GPU's read 3.9 ms and an 8-GPU node's 34 ms. This cache keeps the last answer per GPU,
and a daemon thread re-reads them every ``period_s``: a reading's energy counter is at most
that old (the driver itself only updates it about every 100 ms). A write, or an enforced
limit that moved, drops a GPU's entries so the next read asks NVML again.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

__all__ = ["SLOW_FIELDS", "SlowFields"]

_log = logging.getLogger(__name__)

SLOW_FIELDS = ("energy_mj", "limit_mw")

Read = Callable[[int, str], Any]  # (gpu index, raw key) -> the raw value; raises on failure


class SlowFields:
    """Last answers for :data:`SLOW_FIELDS` per GPU; :meth:`start` begins the refresh thread."""

    def __init__(self, read: Read, gpu_count: int, *, period_s: float = 1.0) -> None:
        self._read = read
        self._count = gpu_count
        self.period_s = period_s
        self._values: dict[tuple[int, str], Any] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._failing: dict[tuple[int, str], str] = {}  # logged once each, until it works

    def get(self, index: int, key: str) -> tuple[bool, Any]:
        with self._lock:
            if (index, key) in self._values:
                return True, self._values[(index, key)]
        return False, None

    def put(self, index: int, key: str, value: Any) -> None:
        with self._lock:
            self._values[(index, key)] = value

    def forget(self, index: int) -> None:
        with self._lock:
            for key in SLOW_FIELDS:
                self._values.pop((index, key), None)

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="nvml-slow-fields", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def refresh(self) -> None:
        """Re-read every GPU's slow fields once; a failure drops the entry (the next read
        then asks NVML itself and reports the error) and is logged once, not each time."""
        for index in range(self._count):
            for key in SLOW_FIELDS:
                if self._stop.is_set():
                    return
                try:
                    value = self._read(index, key)
                except Exception as exc:  # noqa: BLE001 - any NVML failure: let reads see it
                    with self._lock:
                        self._values.pop((index, key), None)
                    if self._failing.get((index, key)) != str(exc):
                        self._failing[(index, key)] = str(exc)
                        _log.warning("GPU %s %s refresh failed: %s", index, key, exc)
                    continue
                self.put(index, key, value)
                if self._failing.pop((index, key), None) is not None:
                    _log.info("GPU %s %s refresh works again", index, key)

    def _run(self) -> None:
        while not self._stop.wait(self.period_s):
            began = time.monotonic()
            self.refresh()
            _log.debug("slow NVML fields refreshed in %.1f ms", 1000 * (time.monotonic() - began))
