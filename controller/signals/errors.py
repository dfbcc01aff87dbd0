"""The signals layer's exception root and the kinds of bad input it counts."""

from __future__ import annotations

import enum

from controller.errors import ControllerError

__all__ = ["AuthError", "BadSignal", "ErrorKind", "SignalError", "Unauthorized", "UpstreamError"]


class ErrorKind(enum.StrEnum):
    """Label values of ``hashpivot_signal_errors_total{kind}``."""

    MALFORMED = "malformed"  # not the documented shape: bad JSON/CSV, missing fields
    UNITS = "units"  # a unit other than the one the source is configured for
    ABSURD = "absurd"  # out of any plausible range: negative level, a price of 1e12
    PAST_DEADLINE = "past_deadline"  # the event is over or its deadline has passed
    FUTURE = "future"  # timestamped further ahead than clocks can disagree
    DUPLICATE = "duplicate"  # the same update again
    OUT_OF_ORDER = "out_of_order"  # older than one already accepted
    REPLAY = "replay"  # a signed request outside its replay window, or seen before
    SIGNATURE = "signature"  # a webhook whose HMAC does not verify
    UNKNOWN_EVENT = "unknown_event"  # a change or cancellation of an event never seen
    UPSTREAM = "upstream"  # the upstream refused, stalled or answered with an error status
    AUTH = "auth"  # a token refused (401 twice), a sign-in refused, no token to send
    REJECTED = "rejected"  # the command service refused an otherwise well-formed update


class SignalError(ControllerError):
    """Root of the signals layer's errors."""

    kind: ErrorKind = ErrorKind.MALFORMED

    def __init__(self, message: str, kind: ErrorKind | None = None) -> None:
        super().__init__(message)
        if kind is not None:
            self.kind = kind


class BadSignal(SignalError):
    """An input that is refused: typed by ``kind``, logged escaped and counted."""


class UpstreamError(SignalError):
    """The upstream could not be read (refused, timed out, error status)."""

    kind = ErrorKind.UPSTREAM


class Unauthorized(UpstreamError):
    """HTTP 401: a source that holds a token provider renews its token and asks again."""


class AuthError(SignalError):
    """No usable token: the sign-in was refused, or the upstream refused a fresh token too."""

    kind = ErrorKind.AUTH
