"""The one interface every source implements, and the polling loop most of them share.

A source starts with a :class:`Sink` (the hub), emits typed updates into it and reports
its failures to it; it stops when asked. A polling source reads its upstream on the
market's cadence with a bounded timeout, and backs off (doubling, capped) while the
upstream refuses, stalls or sends garbage, so a dead upstream costs one request per
backoff step, never a busy loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import logging
from collections.abc import Sequence
from typing import NotRequired, Protocol, TypedDict, Unpack

import aiohttp

from controller.clock import Clock
from controller.signals.errors import (
    AuthError,
    BadSignal,
    ErrorKind,
    SignalError,
    Unauthorized,
    UpstreamError,
)
from controller.signals.tokens import TokenProvider
from controller.signals.updates import Update

__all__ = [
    "AgeFrom",
    "Cadence",
    "PollingSource",
    "Sink",
    "Source",
    "Upstream",
    "UrlSource",
    "cancelled",
    "fetch",
]

log = logging.getLogger(__name__)

_MAX_BODY = 8 * 1024 * 1024  # a month of one settlement point's prices is well under 1 MB


class AgeFrom(enum.StrEnum):
    VALUE = "value"  # age = now - origin of the newest value (prices, hashprice)
    CONTACT = "contact"  # age = now - the last successful read (events, relay, flags)


class Sink(Protocol):
    async def emit(self, update: Update) -> None: ...

    def error(self, source: str, error: SignalError) -> None: ...


class Source(Protocol):
    name: str
    stale_after_s: float | None  # None: never stale (push-only sources such as webhooks)
    age_from: AgeFrom

    async def start(self, sink: Sink) -> None: ...

    async def stop(self) -> None: ...


async def fetch(
    session: aiohttp.ClientSession,
    url: str,
    *,
    timeout_s: float,
    headers: dict[str, str] | None = None,
    method: str = "GET",
    json_body: object = None,
) -> bytes:
    """One bounded request; any failure is an :class:`UpstreamError` (never a hang)."""
    timeout = aiohttp.ClientTimeout(total=timeout_s)
    try:
        async with session.request(
            method, url, headers=headers, json=json_body, timeout=timeout
        ) as response:
            body = await response.content.read(_MAX_BODY + 1)
            if len(body) > _MAX_BODY:
                raise BadSignal(f"{url}: body over {_MAX_BODY} bytes", ErrorKind.MALFORMED)
            if response.status == 401:
                raise Unauthorized(f"{url}: HTTP 401")
            if response.status >= 400:
                raise UpstreamError(f"{url}: HTTP {response.status}")
            return body
    except TimeoutError:
        raise UpstreamError(f"{url}: no answer within {timeout_s:g} s") from None
    except aiohttp.ClientError as exc:
        raise UpstreamError(f"{url}: {type(exc).__name__}: {exc}") from None


async def cancelled(task: asyncio.Task[None] | None) -> None:
    """Cancel a source's task (if it has one) and wait until it has ended."""
    if task is not None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


class Cadence(TypedDict):
    """How often a polling source reads, how long it waits, when its value goes stale."""

    interval_s: float
    timeout_s: float
    stale_after_s: float | None


class PollingSource:
    """Base for sources that read an upstream every ``interval_s``; subclasses give poll()."""

    age_from = AgeFrom.VALUE

    def __init__(
        self, name: str, clock: Clock, *, max_backoff_s: float = 600.0, **cadence: Unpack[Cadence]
    ) -> None:
        self.name = name
        self.clock = clock
        self.interval_s = cadence["interval_s"]
        self.timeout_s = cadence["timeout_s"]
        self.stale_after_s = cadence["stale_after_s"]
        self.max_backoff_s = max(max_backoff_s, self.interval_s)
        self.failures = 0  # consecutive failed polls
        self._task: asyncio.Task[None] | None = None
        self._session: aiohttp.ClientSession | None = None

    @property
    def session(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession()
        return self._session

    async def poll(self) -> Sequence[Update]:
        raise NotImplementedError

    def delay_s(self) -> float:
        """The wait before the next poll: the cadence, or the backoff after failures."""
        if not self.failures:
            return self.interval_s
        backoff: float = self.interval_s * 2.0 ** min(self.failures, 20)
        return min(backoff, self.max_backoff_s)

    async def start(self, sink: Sink) -> None:
        self._task = asyncio.create_task(self._run(sink), name=f"signal-{self.name}")

    async def stop(self) -> None:
        await cancelled(self._task)
        self._task = None
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def _run(self, sink: Sink) -> None:
        while True:
            await self.poll_once(sink)
            await self.clock.sleep(self.delay_s())

    async def poll_once(self, sink: Sink) -> None:
        try:
            updates = await self.poll()
        except SignalError as exc:
            if not self.failures:
                log.warning("signal %s: %s", self.name, exc)
            self.failures += 1
            sink.error(self.name, exc)
            return
        if self.failures:
            log.info(
                "signal %s: upstream answers again after %d failures", self.name, self.failures
            )
        self.failures = 0
        for update in updates:
            await sink.emit(update)


class Upstream(Cadence):
    """Where a URL source reads, with what headers and token, and how often."""

    url: str
    headers: dict[str, str]
    token: NotRequired[TokenProvider | None]


class UrlSource(PollingSource):
    """A polling source that reads one configured URL (prices, hashprice, 4CP flags).

    With a ``token``, the ``Authorization`` header is asked for before every request (a
    token may live only an hour); a 401 renews it and retries the request once, and a
    second 401, or none to retry with, is an ``auth`` error."""

    def __init__(
        self,
        name: str,
        clock: Clock,
        *,
        url: str,
        headers: dict[str, str],
        token: TokenProvider | None = None,
        **cadence: Unpack[Cadence],
    ) -> None:
        super().__init__(name, clock, **cadence)
        self.url = url
        self.headers = headers
        self.token = token

    async def get(self, url: str | None = None) -> bytes:
        """The body at ``url`` (the configured one by default), with the configured headers."""
        target = url or self.url
        if self.token is None:
            return await self._get(target, None)
        sent = await self.token.authorization(self.session)
        try:
            return await self._get(target, sent)
        except Unauthorized:
            fresh = await self.token.renew(self.session, sent)
        if fresh is None:
            raise AuthError(f"{target}: HTTP 401 to our token, and no other token to send")
        try:
            return await self._get(target, fresh)
        except Unauthorized:
            raise AuthError(f"{target}: HTTP 401 to a fresh token too") from None

    async def _get(self, url: str, authorization: str | None) -> bytes:
        headers = self.headers
        if authorization is not None:
            headers = headers | {"Authorization": authorization}
        return await fetch(self.session, url, timeout_s=self.timeout_s, headers=headers)
