"""The stock Antminer CGI web API (port 80): Digest auth, conf, stats, reboot, blink."""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

from simulators.antminer.state import apply_conf, mode_to_code
from simulators.antminer.unit import AntminerUnit
from simulators.faults import FaultKind
from simulators.httpserve import AuthResult, HttpRequest, HttpResponse, json_response
from simulators.physics import WorkMode

__all__ = ["REALM", "AntminerWeb"]

_log = logging.getLogger(__name__)

REALM = "antMiner Configuration"
_SET_CONF_OK = '{"stats":"success","code":"M000","msg":"OK!"}'
# Non-JSON on purpose: pyasic reclassifies any JSON body at /kaonsu/v1/brief as Marathon.
_NOT_FOUND = HttpResponse(
    status=404, body=b"<html><body><h1>404 Not Found</h1></body></html>", content_type="text/html"
)
_GONE = HttpResponse(status=0, drop=True)
_REBOOTING = HttpResponse(
    status=200, body=b'{"stats":"success","code":"R000","msg":"OK!"}', close=True
)
_INDEX = b"<html><head><title>Antminer</title></head><body>antMiner Configuration</body></html>"


def _dump(obj: Any) -> HttpResponse:
    return json_response(json.dumps(obj, separators=(",", ":")))


class AntminerWeb:
    """Request handler for one simulated Antminer's web server."""

    def __init__(self, device: AntminerUnit) -> None:
        self._dev = device

    async def handle(self, request: HttpRequest) -> HttpResponse:
        dev = self._dev
        if dev.physics.is_offline():
            return _GONE  # rebooting: kept-alive connections die with the old process
        verdict = dev.auth.verify(request.method, request.headers.get("authorization"))
        if verdict is not AuthResult.OK:
            return HttpResponse(
                status=401,
                body=b"<html><body><h1>401 Unauthorized</h1></body></html>",
                content_type="text/html",
                headers=(
                    ("WWW-Authenticate", dev.auth.challenge(stale=verdict is AuthResult.STALE)),
                ),
            )
        path = request.path
        if path in {"/", "/index.html"}:
            return HttpResponse(status=200, body=_INDEX, content_type="text/html")
        if not (path.startswith("/cgi-bin/") and path.endswith(".cgi")):
            return _NOT_FOUND
        name = path.removeprefix("/cgi-bin/").removesuffix(".cgi")
        if name == "set_miner_conf":
            return await self._set_miner_conf(request)
        if name == "reboot":
            if not dev.ignores_writes():
                dev.reboot()
            return _REBOOTING
        if name == "blink":
            return self._blink(request)
        getter = {
            "get_system_info": self._system_info,
            "get_miner_conf": self._miner_conf,
            "get_network_info": self._network_info,
            "get_blink_status": self._blink_status,
            "summary": self._summary,
            "stats": self._stats,
        }.get(name)
        return _dump(getter()) if getter else _NOT_FOUND

    # ---- writes ---------------------------------------------------------------------

    async def _set_miner_conf(self, request: HttpRequest) -> HttpResponse:
        dev = self._dev
        try:
            body = json.loads(request.body or b"{}")
        except (json.JSONDecodeError, UnicodeDecodeError):
            body = None
        if not isinstance(body, dict):
            return _dump({"stats": "error", "code": "M001", "msg": "Invalid JSON"})
        if dev.ignores_writes():
            _log.info("%s: set_miner_conf acknowledged and ignored", dev.address)
        else:
            self._apply_conf(body)
        delay = dev.set_conf_delay_s()
        if delay > 0:
            await asyncio.sleep(delay)
        return json_response(_SET_CONF_OK)

    def _apply_conf(self, body: dict[str, Any]) -> None:
        dev = self._dev
        change = apply_conf(dev.conf, body, dev.options.quirks)
        for note in change.notes:
            _log.info("%s: set_miner_conf: %s", dev.address, note)
        dev.conf = change.conf
        dev.physics.set_manual_fan(change.conf.manual_fan_percent)
        if change.mode_changed:
            _log.info("%s: work mode -> %s", dev.address, change.conf.work_mode)
            keeps_hashing = dev.faults.has(FaultKind.ACK_SLEEP_KEEP_HASHING)
            if not (change.conf.work_mode is WorkMode.SLEEP and keeps_hashing):
                dev.physics.set_mode(change.conf.work_mode)

    def _blink(self, request: HttpRequest) -> HttpResponse:
        try:
            body = json.loads(request.body or b"{}")
        except (json.JSONDecodeError, UnicodeDecodeError):
            body = {}
        on = str(body.get("blink", "false")).lower() == "true" if isinstance(body, dict) else False
        if not self._dev.ignores_writes():
            self._dev.blinking = on
        return _dump({"code": "B000" if on else "B100"})

    # ---- reads ----------------------------------------------------------------------

    def _system_info(self) -> dict[str, Any]:
        dev = self._dev
        return {
            "minertype": dev.spec.type_string,
            "nettype": "DHCP",
            "netdevice": "eth0",
            "macaddr": dev.mac,
            "hostname": dev.hostname,
            "ipaddress": dev.address,
            "netmask": "255.0.0.0",
            "gateway": "",
            "dnsservers": "",
            "system_mode": "GNU/Linux",
            "system_kernel_version": "Linux 4.9.113 #1 SMP PREEMPT Thu Oct 9 18:55:45 CST 2025",
            "system_filesystem_version": dev.spec.fs_version,
            "firmware_type": "Release",
            "serinum": dev.serial,
        }

    def _network_info(self) -> dict[str, Any]:
        dev = self._dev
        return {
            "nettype": "DHCP",
            "netdevice": "eth0",
            "macaddr": dev.mac,
            "ipaddress": dev.address,
            "netmask": "255.0.0.0",
            "conf_nettype": "DHCP",
            "conf_hostname": dev.hostname,
            "conf_ipaddress": "",
            "conf_netmask": "",
            "conf_gateway": "",
            "conf_dnsservers": "",
        }

    def _miner_conf(self) -> dict[str, Any]:
        return self._dev.conf.as_web(self._dev.spec.frequency_mhz)

    def _blink_status(self) -> dict[str, Any]:
        return {"blink": self._dev.blinking}

    def _envelope(self, msg: str) -> dict[str, Any]:
        dev = self._dev
        return {
            "STATUS": {
                "STATUS": "S",
                "when": int(dev.clock.unix()),
                "Msg": msg,
                "api_version": "1.0.0",
            },
            "INFO": {
                "miner_version": dev.spec.firmware,
                "CompileTime": dev.spec.compile_time,
                "type": dev.spec.type_string,
            },
        }

    def _summary(self) -> dict[str, Any]:
        dev = self._dev
        s = dev.physics.sample()
        c = dev.counters(s.uptime_s)
        fans_ok = dev.spec.fans == 0 or all(rpm > 0 for rpm in s.fans_rpm)
        hot = max(s.chip_temps_c, default=0.0) > 95.0
        return {
            **self._envelope("summary"),
            "SUMMARY": [
                {
                    "elapsed": int(s.uptime_s),
                    "rate_5s": round(s.hashrate_hs / 1e9, 2),
                    "rate_30m": round(s.hashrate_30m_hs / 1e9, 2),
                    "rate_avg": round(s.hashrate_avg_hs / 1e9, 2),
                    "rate_ideal": round(dev.spec.nameplate_hs / 1e9, 2),
                    "rate_unit": "GH/s",
                    "hw_all": c.hardware_errors,
                    "bestshare": c.best_share,
                    "status": [
                        {"type": "rate", "status": "s", "code": 0, "msg": ""},
                        {"type": "network", "status": "s", "code": 0, "msg": ""},
                        {
                            "type": "fans",
                            "status": "s" if fans_ok or dev.conf.fan_ctrl else "e",
                            "code": 0 if fans_ok or dev.conf.fan_ctrl else 1,
                            "msg": "" if fans_ok or dev.conf.fan_ctrl else "fan lost",
                        },
                        {
                            "type": "temp",
                            "status": "e" if hot else "s",
                            "code": 1 if hot else 0,
                            "msg": "temperature too high" if hot else "",
                        },
                    ],
                }
            ],
        }

    def _stats(self) -> dict[str, Any]:
        dev = self._dev
        m = dev.spec
        s = dev.physics.sample()
        c = dev.counters(s.uptime_s)
        chains = []
        for i in range(m.boards):
            pcb, chip = dev.board_sensors(s, i)
            chains.append(
                {
                    "index": i,
                    "freq_avg": m.frequency_mhz if s.hashrate_hs > 0 else 0,
                    "rate_ideal": round(m.nameplate_hs / m.boards / 1e9, 2),
                    "rate_real": round(s.board_hashrates_hs[i] / 1e9, 2),
                    "asic_num": m.chips_per_board,
                    "asic": " ".join(["oooo"] * (m.chips_per_board // 4)),
                    "temp_pic": [max(0, v - 10) for v in pcb],
                    "temp_pcb": list(pcb),
                    "temp_chip": list(chip),
                    "hw": c.hardware_errors // m.boards,
                    "eeprom_loaded": True,
                    "sn": f"{dev.serial}B{i}",
                    "hwp": 0.0,
                }
            )
        return {
            **self._envelope("stats"),
            "STATS": [
                {
                    "elapsed": int(s.uptime_s),
                    "rate_5s": round(s.hashrate_hs / 1e9, 2),
                    "rate_30m": round(s.hashrate_30m_hs / 1e9, 2),
                    "rate_avg": round(s.hashrate_avg_hs / 1e9, 2),
                    "rate_ideal": round(m.nameplate_hs / 1e9, 2),
                    "rate_unit": "GH/s",
                    "chain_num": m.boards,
                    "fan_num": m.fans,
                    "fan": list(s.fans_rpm),
                    "hwp_total": 0.0,
                    "miner-mode": mode_to_code(dev.conf.work_mode),
                    "freq-level": int(dev.conf.freq_level)
                    if dev.conf.freq_level.isdigit()
                    else 100,
                    "chain": chains,
                }
            ],
        }
