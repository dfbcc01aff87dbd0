"""The token endpoint's JSON reply: which token to send and when it expires.

An OAuth 2 / OpenID Connect token endpoint (ERCOT's Azure AD B2C among them) answers
``id_token`` and/or ``access_token`` with their lifetimes in seconds (``expires_in``,
``id_token_expires_in``; B2C sends them as strings). ERCOT's API wants the ID token. The
token's own ``exp`` claim, when it is a JWT, also bounds the expiry: whichever ends
first wins. Everything here is parsed, never trusted: a reply that gives no usable
token is a ``malformed`` :class:`BadSignal`, and the hypothesis test fuzzes it.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
from dataclasses import dataclass
from typing import Annotated

from pydantic import Field, ValidationError

from controller.signals._json import Lenient, malformed
from controller.signals.errors import BadSignal, ErrorKind
from controller.signals.tokens import check_token

__all__ = ["DEFAULT_LIFETIME_S", "Token", "parse_token_reply"]

DEFAULT_LIFETIME_S = 3600.0  # ERCOT's documented ID token lifetime, when a reply says none
_MAX_LIFETIME_S = 86_400.0  # no reply makes us keep a token longer than a day

_Lifetime = Annotated[float, Field(gt=0, allow_inf_nan=False)]


@dataclass(frozen=True, slots=True, kw_only=True)
class Token:
    value: str
    obtained_at: float
    expires_at: float


class _Reply(Lenient):
    """The parts of a B2C token reply we use (lifetimes come as strings from B2C)."""

    id_token: str | None = None
    access_token: str | None = None
    expires_in: _Lifetime | None = None
    id_token_expires_in: _Lifetime | None = None


def _jwt_exp(token: str) -> float | None:
    """The ``exp`` claim of a JWT (read, not verified: it only says when to renew)."""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        claims = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except (ValueError, binascii.Error, RecursionError):
        return None
    exp = claims.get("exp") if isinstance(claims, dict) else None
    if isinstance(exp, bool) or not isinstance(exp, int | float):
        return None
    try:
        seconds = float(exp)  # an integer of 400 digits does not fit
    except OverflowError:
        return None
    return seconds if math.isfinite(seconds) else None


def parse_token_reply(body: bytes, now: float) -> Token:
    """The bearer token of a token endpoint's JSON reply (``id_token``, else
    ``access_token``) and when to consider it expired; a reply that gives none, or one
    already expired, is a :class:`BadSignal`."""
    try:
        reply = _Reply.model_validate_json(body)
    except ValidationError as exc:
        raise malformed("token reply", exc) from None
    if reply.id_token:
        text, lifetime = reply.id_token, reply.id_token_expires_in or reply.expires_in
    elif reply.access_token:
        text, lifetime = reply.access_token, reply.expires_in
    else:
        raise BadSignal("token reply without id_token or access_token", ErrorKind.MALFORMED)
    try:
        value = check_token(text)
    except ValueError as exc:
        raise BadSignal(f"token reply: {exc}", ErrorKind.MALFORMED) from None
    ends = [now + min(lifetime or DEFAULT_LIFETIME_S, _MAX_LIFETIME_S)]
    if (exp := _jwt_exp(value)) is not None:
        ends.append(exp)
    expires_at = min(ends)
    if expires_at <= now:
        raise BadSignal("token reply: the token has already expired", ErrorKind.ABSURD)
    return Token(value=value, obtained_at=now, expires_at=expires_at)
