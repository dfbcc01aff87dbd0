"""Where a source's ``Authorization`` header comes from, asked for before every request.

A token read once at start dies with its lifetime: ERCOT's ID token lives one hour, so a
source that kept the header it was built with would fail an hour after start until
restarted. A source therefore asks its :class:`TokenProvider` before each request and,
when the upstream answers 401, asks it to ``renew`` and retries the request once
(:class:`controller.signals.source.UrlSource`). The providers:

- :class:`StaticToken`: a fixed token (``{value: ...}`` or ``{env: NAME}`` in the config);
- :class:`TokenFile`: a file that another tool keeps fresh, re-read when it changes
  (modification time, size or inode) and after a 401;
- ``controller.signals.signin.ErcotSignIn``: ERCOT's own sign-in, renewed before expiry.

Tokens are secrets: no message here quotes one.
"""

from __future__ import annotations

import os
import re
from typing import Protocol

import aiohttp

from controller.signals.errors import AuthError

__all__ = ["StaticToken", "TokenFile", "TokenProvider", "check_token"]

# RFC 6750's b64token: one word of header-safe characters, so a token can never carry a
# second header (a newline) into the request.
_TOKEN = re.compile(r"[A-Za-z0-9\-._~+/]+=*")
MAX_TOKEN_CHARS = 16 * 1024  # an Azure B2C ID token is 1-2 kB


class TokenProvider(Protocol):
    async def authorization(self, session: aiohttp.ClientSession) -> str:
        """The ``Authorization`` header value to send now (``Bearer <token>``)."""
        ...

    async def renew(self, session: aiohttp.ClientSession, refused: str) -> str | None:
        """After a 401 to ``refused``: another header value to retry with, or None when
        there is none to try (the next poll asks again)."""
        ...


def check_token(text: str) -> str:
    """The token in ``text`` (a ``Bearer`` prefix and surrounding blanks dropped); raises
    ValueError, without quoting the text, when it is not one header-safe word."""
    token = text.strip()
    if token[:7].lower() == "bearer ":
        token = token[7:].strip()
    if not token:
        raise ValueError("empty token")
    if len(token) > MAX_TOKEN_CHARS:
        raise ValueError(f"token longer than {MAX_TOKEN_CHARS} characters")
    if _TOKEN.fullmatch(token) is None:
        raise ValueError("not a bearer token (one word of RFC 6750 characters)")
    return token


class StaticToken:
    """The same token for the life of the process; a 401 to it has no remedy here."""

    __slots__ = ("_header",)

    def __init__(self, token: str) -> None:
        self._header = f"Bearer {check_token(token)}"

    async def authorization(self, session: aiohttp.ClientSession) -> str:
        return self._header

    async def renew(self, session: aiohttp.ClientSession, refused: str) -> str | None:
        return None


class TokenFile:
    """A token file kept fresh by another tool: read again whenever its modification time,
    size or inode changes (a rename into place changes the inode), and after a 401."""

    __slots__ = ("_header", "_stamp", "path")

    def __init__(self, path: str) -> None:
        self.path = path
        self._stamp: tuple[int, int, int] | None = None
        self._header: str | None = None

    def read(self, *, force: bool = False) -> str:
        """The header for the token in the file, read again if the file changed."""
        try:
            info = os.stat(self.path)
            stamp = (info.st_mtime_ns, info.st_size, info.st_ino)
            if force or self._header is None or stamp != self._stamp:
                self._header = None
                with open(self.path, encoding="utf-8") as handle:
                    text = handle.read(MAX_TOKEN_CHARS + 64)
                self._header = f"Bearer {check_token(text)}"
                self._stamp = stamp
        except OSError as exc:
            raise AuthError(f"token file {self.path!r}: {exc.strerror}") from None
        except (UnicodeDecodeError, ValueError) as exc:
            reason = "not UTF-8 text" if isinstance(exc, UnicodeDecodeError) else str(exc)
            raise AuthError(f"token file {self.path!r}: {reason}") from None
        return self._header

    async def authorization(self, session: aiohttp.ClientSession) -> str:
        return self.read(force=False)

    async def renew(self, session: aiohttp.ClientSession, refused: str) -> str | None:
        fresh = self.read(force=True)
        return None if fresh == refused else fresh
