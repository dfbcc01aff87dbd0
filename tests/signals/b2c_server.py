"""A local stand-in for ERCOT's Azure AD B2C sign-in (the ``B2C_1_PUBAPI-ROPC-FLOW`` token
endpoint), speaking its shape: a form POST (``grant_type=password``, ``username``,
``password``, ``response_type=id_token``, ``scope``, ``client_id``) answered with JSON
carrying ``access_token``, ``id_token``, ``refresh_token`` and the lifetimes as strings
(``expires_in``, ``id_token_expires_in``), each token a JWT with an ``exp`` claim, or
with 400 ``invalid_grant`` and an ``AADB2C90225`` description for a wrong password.

Tokens expire on the test's clock. :meth:`valid` tells the ERCOT stand-in whether an
``Authorization`` header carries a live ID token (an access token is not one: ERCOT wants
the ID token). ``fault`` makes it refuse (400), refuse with 401, echo the password back
in its refusal, stall, or answer garbage.
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
from typing import Any

from aiohttp import web

from controller.clock import Clock
from controller.signals.signin import ERCOT_CLIENT_ID
from tests.signals.local_server import LocalServer

PATH = "/ercotb2c.onmicrosoft.com/B2C_1_PUBAPI-ROPC-FLOW/oauth2/v2.0/token"
USERNAME = "ops@site.example"
PASSWORD = "pw-Zq8!r3 kept/secret"  # a space and a slash: it must travel form-encoded


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class B2CServer(LocalServer):
    def __init__(self, clock: Clock, host: str, *, lifetime_s: float = 3600.0) -> None:
        super().__init__(host)
        self.clock = clock
        self.lifetime_s = lifetime_s
        self.fault: str | None = None  # "refuse" | "unauthorized" | "echo" | "stall" | "garbage"
        self.id_tokens: dict[str, float] = {}  # token -> exp
        self.sign_ins = 0  # tokens issued
        self.forms: list[dict[str, str]] = []
        self._serial = itertools.count(1)

    @property
    def url(self) -> str:
        return f"{self.base}{PATH}"

    def valid(self, authorization: str | None) -> bool:
        if authorization is None or not authorization.startswith("Bearer "):
            return False
        exp = self.id_tokens.get(authorization.removeprefix("Bearer "))
        return exp is not None and self.clock.time() < exp

    def revoke_all(self) -> None:
        self.id_tokens.clear()

    def _jwt(self, kind: str, exp: float) -> str:
        header = {"alg": "RS256", "kid": "test", "typ": "JWT"}
        claims = {
            "iss": f"http://{self.host}/tfp/ercotb2c/b2c_1_pubapi-ropc-flow/v2.0/",
            "aud": ERCOT_CLIENT_ID,
            "sub": "3f1c",
            "exp": int(exp),
            "nbf": int(self.clock.time()),
            "typ": kind,
            "n": next(self._serial),
        }
        parts = (json.dumps(header).encode(), json.dumps(claims).encode(), b"not-a-signature")
        return ".".join(_b64(p) for p in parts)

    def _refuse(self, status: int, description: str) -> web.Response:
        body = {"error": "invalid_grant", "error_description": description}
        return web.json_response(body, status=status)

    async def token(self, request: web.Request) -> web.Response:
        form = {k: str(v) for k, v in (await request.post()).items()}
        self.forms.append(form)
        if self.fault == "stall":
            await asyncio.sleep(3600)
        if self.fault == "garbage":
            return web.Response(body=b'{"id_token": 42, "expires_in": "soon"', status=200)
        wanted = {
            "grant_type": "password",
            "response_type": "id_token",
            "client_id": ERCOT_CLIENT_ID,
        }
        if any(form.get(k) != v for k, v in wanted.items()):
            return self._refuse(400, "AADB2C90057: The provided application is not configured.")
        if self.fault == "echo":
            return self._refuse(400, f"AADB2C90225: password {form.get('password')} is invalid.")
        wrong = (form.get("username"), form.get("password")) != (USERNAME, PASSWORD)
        if wrong or self.fault in ("refuse", "unauthorized"):
            status = 401 if self.fault == "unauthorized" else 400
            return self._refuse(
                status,
                "AADB2C90225: The username or password provided in the request are invalid.\r\n"
                "Correlation ID: 7e0b\r\nTimestamp: 2023-08-16 05:20:00Z\r\n",
            )
        exp = self.clock.time() + self.lifetime_s
        id_token = self._jwt("id", exp)
        self.id_tokens[id_token] = exp
        self.sign_ins += 1
        reply: dict[str, Any] = {
            "access_token": self._jwt("access", exp),
            "token_type": "Bearer",
            "expires_in": str(int(self.lifetime_s)),
            "refresh_token": _b64(b"refresh-" + str(self.sign_ins).encode()),
            "id_token": id_token,
            "id_token_expires_in": str(int(self.lifetime_s)),
        }
        return web.json_response(reply)

    def routes(self, app: web.Application) -> None:
        app.router.add_post(PATH, self.token)
