"""The FluxOS REST API on 8080 (and the web UI page), shaped like the captures.

``POST /token`` logs in; every other call needs the header ``Token: <token>``. A
missing, unknown or expired token gets HTTP 401 with a cgminer-style E status whose
Msg names the token, which is what clients key re-authentication on. ``GET /<cmd>``
reads; ``POST /<cmd>`` with ``{"command": "<cmd>", ...}`` writes.
"""

from __future__ import annotations

import json
from typing import Any

from simulators.auradine.rpc import rpc_sections
from simulators.auradine.state import AuradineMode, LedCode
from simulators.auradine.unit import AuradineUnit
from simulators.cgminer_rpc import status_entry
from simulators.device import PoolEntry
from simulators.httpserve import HttpRequest, HttpResponse

__all__ = ["AuradineRest"]

_UI = (
    b"<!DOCTYPE html><html><head><meta charset='utf-8'><title>Miner UI</title></head>"
    b"<body><div id='root'>Miner UI</div></body></html>"
)
_GONE = HttpResponse(status=0, drop=True)
_WRITES = frozenset({"mode", "led", "fan", "restart", "updatepools"})


def _volts(value: float) -> str:
    return f"{value:.2f}V"


class AuradineRest:
    def __init__(self, device: AuradineUnit) -> None:
        self._dev = device

    def _reply(
        self, code: int, msg: str, sections: dict[str, Any], *, status: str = "S", http: int = 200
    ) -> HttpResponse:
        dev = self._dev
        entry = status_entry(
            status, code, msg, when=dev.clock.unix(), description=dev.fluxos_description
        )
        body = {"STATUS": [entry], **sections, "id": 1}
        return HttpResponse(status=http, body=json.dumps(body, separators=(",", ":")).encode())

    def _error(self, http: int, code: int, msg: str) -> HttpResponse:
        return self._reply(code, msg, {}, status="E", http=http)

    async def handle(self, request: HttpRequest) -> HttpResponse:
        dev = self._dev
        if dev.physics.is_offline():
            return _GONE
        name = request.path.strip("/")
        if name in {"", "index.html"} and request.method == "GET":
            return HttpResponse(status=200, body=_UI, content_type="text/html")
        body = self._body(request)
        if name == "token" and request.method == "POST":
            token = dev.tokens.login(body.get("user"), body.get("password"))
            if token is None:
                return self._error(401, 401, "Invalid username or password")
            return self._reply(500, "Token", {"Token": [{"Token": token}]})
        problem = dev.tokens.check(request.headers.get("token"))
        if problem is not None:
            msg = "Token expired" if problem == "expired" else f"Token {problem}"
            return self._error(401, 401, msg)
        if request.method == "POST":
            return self._write(name, body)
        return self._read(name)

    @staticmethod
    def _body(request: HttpRequest) -> dict[str, Any]:
        try:
            decoded = json.loads(request.body or b"{}")
        except (json.JSONDecodeError, UnicodeDecodeError):
            return {}
        return decoded if isinstance(decoded, dict) else {}

    # ---- reads ----------------------------------------------------------------------

    def _read(self, name: str) -> HttpResponse:
        dev = self._dev
        reader = {
            "mode": self._mode,
            "psu": self._psu,
            "fan": self._fan,
            "temperature": self._temperature,
            "voltage": self._voltage,
            "frequency": self._frequency,
            "led": self._led,
            "ipreport": self._ipreport,
            "network": self._network,
        }.get(name)
        if reader is not None:
            return reader()
        reply = rpc_sections(dev, name, dev.fluxos_description)
        if reply is not None:
            return HttpResponse(status=200, body=json.dumps(reply, separators=(",", ":")).encode())
        return self._error(404, 14, f"Invalid command: {name}")

    def _mode(self) -> HttpResponse:
        c = self._dev.control
        power, ths = c.mode_targets()
        sleep = "on" if c.sleep else "off"
        msg = f"Operating mode: '{c.mode.value}', sleep: '{'true' if c.sleep else 'false'}'"
        entry = {"Mode": c.mode.value, "Sleep": sleep, "Power": power, "Ths": ths}
        return self._reply(540, msg, {"Mode": [entry]})

    def _psu(self) -> HttpResponse:
        dev = self._dev
        s = dev.physics.sample()
        vin, vout = 240.0, 12.1 if s.hashrate_hs > 0 else 11.5
        out = s.power_w * 0.95 if s.hashrate_hs > 0 else 0.0
        psu_fan = 2000 + 2500 * min(1.0, s.power_w / dev.spec.nameplate_w)
        entry = {
            "Vin": _volts(vin),
            "Iin": f"{s.power_w / vin:.2f}A",
            "PowerIn": f"{s.power_w:.2f}W",
            "PowerOut": f"{out:.2f}W",
            "PoutMax": f"{dev.pout_max_w:.2f}W",
            "Vout": _volts(vout),
            "VoutSet": _volts(vout),
            "Iout": f"{out / vout:.2f}A",
            "FanSpeed1": f"{psu_fan:.2f} RPM",
            "FanSpeed2": f"{psu_fan + 90:.2f} RPM",
        }
        return self._reply(570, "PSU status", {"PSU": [entry]})

    def _fan(self) -> HttpResponse:
        dev = self._dev
        s = dev.physics.sample()
        top = dev.max_fan_rpm
        if dev.control.fan_pct is not None:
            target = round(top * dev.control.fan_pct / 100)
        else:
            target = round(sum(s.fans_rpm) / len(s.fans_rpm) / 100) * 100 if s.fans_rpm else 0
        fans = [
            {"ID": i + 1, "Max": top, "Speed": rpm, "Target": target}
            for i, rpm in enumerate(s.fans_rpm)
        ]
        return self._reply(510, f"Total fans: {len(fans)}", {"Fan": fans})

    def _temperature(self) -> HttpResponse:
        dev = self._dev
        s = dev.physics.sample()
        ambient = dev.physics.spec.ambient_c
        boards: list[dict[str, Any]] = [
            {
                "BoardTemp": [{"ID": 0, "Temperature": round(ambient + 4.5, 4)}],
                "ChipTemp": None,
                "ID": 0,
                "Name": "Control Board",
            }
        ]
        for i in range(dev.spec.boards):
            pcb, chip = s.pcb_temps_c[i], s.chip_temps_c[i]
            sensors = (ambient - 3.0, ambient - 4.0, ambient - 2.5, pcb, pcb - 0.5)
            boards.append(
                {
                    "BoardTemp": [
                        {"ID": n, "Temperature": round(t, 4)} for n, t in enumerate(sensors)
                    ],
                    "ChipTemp": [
                        {"ID": n, "Temperature": round(chip + d, 4)}
                        for n, d in enumerate((-1.0, 0.0, 1.5))
                    ],
                    "ID": i + 1,
                    "Name": f"Hash Board {i + 1}",
                }
            )
        return self._reply(590, "System temperature", {"Temperature": boards})

    def _per_board(self, field: str, values: tuple[float, ...]) -> list[dict[str, Any]]:
        return [
            {
                f"Chip{field}": [{"ID": n, field: v} for n, v in enumerate(values)],
                "ID": i + 1,
                "Name": f"Hash Board {i + 1}",
            }
            for i in range(self._dev.spec.boards)
        ]

    def _voltage(self) -> HttpResponse:
        mining = self._dev.physics.sample().hashrate_hs > 0
        values = (0.2395, 0.2423, 0.2405) if mining else (0.0, 0.0, 0.0)
        return self._reply(630, "System voltage", {"Voltage": self._per_board("Voltage", values)})

    def _frequency(self) -> HttpResponse:
        mining = self._dev.physics.sample().hashrate_hs > 0
        values = (281.25, 247.5, 268.75) if mining else (0.0, 0.0, 0.0)
        return self._reply(
            640, "System frequency", {"Frequency": self._per_board("Frequency", values)}
        )

    def _led(self) -> HttpResponse:
        code = self._dev.control.led_code()
        entry = {"Code": code, "LED1": 1, "LED2": 1, "Msg": LedCode.MESSAGES.get(code, "Normal")}
        return self._reply(530, "Total LEDs 2", {"LED": [entry]})

    def _ipreport(self) -> HttpResponse:
        dev = self._dev
        entry = {
            "CBSerialNo": dev.serial,
            "ChassisSerialNo": dev.serial[-6:],
            "HBSerialNo": [f"{dev.serial}HB{i}" for i in range(dev.spec.boards)],
            "InternalType": dev.spec.internal_type,
            "SerialNo": dev.serial,
            "command": "ipreport",
            "hostname": dev.hostname,
            "ip": dev.address,
            "mac": dev.mac,
            "model": dev.spec.name,
            "version": dev.firmware,
        }
        return self._reply(620, "IP Report", {"IPReport": [entry]})

    def _network(self) -> HttpResponse:
        dev = self._dev
        entry = {
            "dhcp": True,
            "ip": dev.address,
            "netmask": "255.0.0.0",
            "gateway": "127.0.0.1",
            "dns": "127.0.0.1",
            "hostname": dev.hostname,
            "mac": dev.mac,
        }
        return self._reply(600, "Network", {"Network": [entry]})

    # ---- writes ---------------------------------------------------------------------

    def _write(self, name: str, body: dict[str, Any]) -> HttpResponse:
        dev = self._dev
        if dev.ignores_writes() and name in _WRITES:
            return self._acknowledge(name)  # and nothing changes
        c = dev.control
        if name == "mode":
            problem = self._set_mode(body)
            return self._error(400, 14, problem) if problem else self._acknowledge(name)
        if name == "led":
            code = body.get("code")
            if not isinstance(code, int):
                return self._error(400, 14, "Invalid LED code")
            c.locate = code == LedCode.LOCATE
            return self._acknowledge(name)
        if name == "fan":
            pct = body.get("percentage")
            if not isinstance(pct, int) or not 0 <= pct <= 100:
                return self._error(400, 14, "Invalid fan percentage")
            c.set_fan(pct)
            return self._acknowledge(name)
        if name == "restart":
            target = body.get("parameter")
            if target == "gcminer":
                dev.physics.restart_mining()
            elif target is None:
                dev.reboot()
            return self._acknowledge(name)
        if name == "updatepools":
            pools = body.get("pools")
            if not isinstance(pools, list):
                return self._error(400, 14, "Invalid pools")
            c.pools = tuple(
                PoolEntry(str(p.get("url", "")), str(p.get("user", "")), str(p.get("pass", "")))
                for p in pools[:3]
                if isinstance(p, dict)
            )
            return self._acknowledge(name)
        return self._error(404, 14, f"Invalid command: {name}")

    def _acknowledge(self, name: str) -> HttpResponse:
        """A write's success reply: the setting as it now reads, or a bare status."""
        if name == "mode":
            return self._mode()
        if name == "led":
            return self._led()
        if name == "fan":
            return self._fan()
        if name == "restart":
            return self._reply(550, "Restarting", {})
        return self._reply(560, "Pools updated", {})

    def _set_mode(self, body: dict[str, Any]) -> str | None:
        c = self._dev.control
        if "sleep" in body:
            if body["sleep"] not in {"on", "off"}:
                return "sleep must be 'on' or 'off'"
            c.set_sleep(body["sleep"] == "on")
            if "mode" not in body:
                return None
        try:
            mode = AuradineMode(str(body.get("mode")))
        except ValueError:
            return f"Invalid mode {body.get('mode')!r}"
        if mode is not AuradineMode.CUSTOM:
            c.set_preset(mode)
            return None
        tune = body.get("tune")
        value = body.get(str(tune))
        if tune not in {"power", "ths"} or not isinstance(value, int | float) or value <= 0:
            return "custom mode needs tune 'power' or 'ths' and a positive target"
        if tune == "power":
            c.set_power_target(int(value))
        else:
            c.set_ths_target(float(value))
        return None
