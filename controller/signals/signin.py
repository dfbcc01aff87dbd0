"""ERCOT's sign-in for its public API: Azure AD B2C's resource-owner password flow (ROPC).

The source POSTs a form to the ``B2C_1_PUBAPI-ROPC-FLOW`` token URL (``grant_type=password``,
``username``, ``password``, ``response_type=id_token``, ``scope``, ``client_id``) and sends
the ``id_token`` of the JSON reply as ``Authorization: Bearer`` to api.ercot.com, beside
the ``Ocp-Apim-Subscription-Key`` header. The ID token lives one hour (docs/signals.md).

A token is renewed ``renew_before_s`` before it expires (from the reply's
``expires_in``/``id_token_expires_in`` and the token's own ``exp`` claim, whichever ends
first) and when the API answers 401. After a failed sign-in the next waits a minute,
doubling to an hour: a wrong password retried every poll would lock the account.

The password is read from its file or variable at each sign-in (so it can be rotated),
goes only into the form body, and is never in a log line or an error: what the token
endpoint answers is escaped, cut short and has the password masked.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import quote, quote_plus

import aiohttp

from controller.clock import Clock
from controller.errors import ConfigError
from controller.signals.errors import AuthError, SignalError, UpstreamError
from controller.signals.token_reply import Token, parse_token_reply

__all__ = ["ERCOT_CLIENT_ID", "ERCOT_SIGN_IN_URL", "ErcotSignIn", "SignInSettings"]

log = logging.getLogger(__name__)

# ERCOT's developer documentation (the public API's "getting an ID token" page).
ERCOT_SIGN_IN_URL = (
    "https://ercotb2c.b2clogin.com/ercotb2c.onmicrosoft.com"
    "/B2C_1_PUBAPI-ROPC-FLOW/oauth2/v2.0/token"
)
ERCOT_CLIENT_ID = "fec253ea-0d06-4272-a5e6-b478baeecd70"
_MAX_REPLY = 64 * 1024
_FIRST_RETRY_S, _MAX_RETRY_S = 60.0, 3600.0


@dataclass(frozen=True, slots=True, kw_only=True)
class SignInSettings:
    username: str
    token_url: str = ERCOT_SIGN_IN_URL
    client_id: str = ERCOT_CLIENT_ID
    scope: str = f"openid {ERCOT_CLIENT_ID} offline_access"
    timeout_s: float = 10.0
    renew_before_s: float = 300.0


class ErcotSignIn:
    """A :class:`controller.signals.tokens.TokenProvider` that signs in itself. One is shared
    by the real-time and the day-ahead source: one sign-in serves both."""

    def __init__(self, clock: Clock, settings: SignInSettings, password: Callable[[], str]):
        self.clock = clock
        self.settings = settings
        self._password = password
        self._token: Token | None = None
        self._lock = asyncio.Lock()  # sources that find the token due sign in once, not twice
        self._failures = 0
        self._retry_at = -math.inf
        self._held: SignalError | None = None  # the last failure, repeated until _retry_at
        self.sign_ins = 0  # successful ones

    def _due(self, now: float) -> bool:
        token = self._token
        if token is None:
            return True
        margin = min(self.settings.renew_before_s, (token.expires_at - token.obtained_at) / 2)
        return now >= token.expires_at - margin

    def _header(self) -> str:
        assert self._token is not None
        return f"Bearer {self._token.value}"

    async def authorization(self, session: aiohttp.ClientSession) -> str:
        async with self._lock:
            if self._due(self.clock.time()):
                await self._sign_in(session)
            return self._header()

    async def renew(self, session: aiohttp.ClientSession, refused: str) -> str | None:
        async with self._lock:
            renewed = self._token is not None and self._header() != refused
            if renewed and not self._due(self.clock.time()):
                return self._header()  # another source renewed it meanwhile
            await self._sign_in(session)
            return self._header()

    async def _sign_in(self, session: aiohttp.ClientSession) -> None:
        now = self.clock.time()
        if self._held is not None and now < self._retry_at:
            wait = self._retry_at - now
            raise type(self._held)(f"{self._held} (next sign-in in {wait:.0f} s)", self._held.kind)
        try:
            token = await self._ask(session)
        except SignalError as exc:
            self._failures += 1
            backoff = _FIRST_RETRY_S * 2.0 ** min(self._failures - 1, 20)
            self._retry_at = now + min(backoff, _MAX_RETRY_S)
            self._held = exc
            raise
        self._failures, self._held, self._token = 0, None, token
        self.sign_ins += 1
        log.debug("ERCOT sign-in: token valid for %.0f s", token.expires_at - token.obtained_at)

    async def _ask(self, session: aiohttp.ClientSession) -> Token:
        s = self.settings
        try:
            password = self._password()
        except ConfigError as exc:
            raise AuthError(f"sign-in: {exc}") from None
        if not password:
            raise AuthError("sign-in: the password is empty")
        form = {
            "grant_type": "password",
            "username": s.username,
            "password": password,
            "response_type": "id_token",
            "scope": s.scope,
            "client_id": s.client_id,
        }
        where = f"sign-in at {s.token_url}"
        try:
            async with session.post(
                s.token_url,
                data=form,
                headers={"Accept": "application/json"},
                timeout=aiohttp.ClientTimeout(total=s.timeout_s),
            ) as response:
                status = response.status
                body = await response.content.read(_MAX_REPLY)
        except TimeoutError:
            raise UpstreamError(f"{where}: no answer within {s.timeout_s:g} s") from None
        except aiohttp.ClientError as exc:
            detail = _masked(str(exc), password)
            raise UpstreamError(f"{where}: {type(exc).__name__}: {detail!r:.200}") from None
        if status in (400, 401, 403):
            raise AuthError(f"{where} refused: HTTP {status} {_refusal(body, password)!r:.300}")
        if status >= 300:
            raise UpstreamError(f"{where}: HTTP {status}")
        return parse_token_reply(body, self.clock.time())


def _masked(text: str, password: str) -> str:
    """``text`` without the password, plain or URL-encoded, in case a server echoes it."""
    if password:
        for form in {password, quote(password, safe=""), quote_plus(password)}:
            text = text.replace(form, "<password>")
    return text


def _refusal(body: bytes, password: str) -> str:
    """B2C's ``error`` code and the first line of its ``error_description``
    (``invalid_grant: AADB2C90225: The username or password ... are invalid.``). The
    password is masked in the whole text before anything is cut, so no part of it stays."""
    text = _masked(body.decode("utf-8", "replace"), password)
    try:
        doc = json.loads(body.decode("utf-8", "replace"))
    except (ValueError, RecursionError):
        doc = None
    if isinstance(doc, dict):
        parts = (_masked(str(doc.get(k) or ""), password) for k in ("error", "error_description"))
        text = ": ".join(p.strip().splitlines()[0] for p in parts if p.strip())
    return text[:200]
