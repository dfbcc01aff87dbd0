"""The command parser at the edge: fuzzed, and checked against the documented signature."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from controller.config.mqtt import CommandAuth
from controller.integrations.api_models import PauseBody
from controller.integrations.mqtt.commands import (
    CommandRefused,
    ErrorKind,
    parse_command,
)
from controller.integrations.mqtt.topics import CommandName, Topics
from tests.mqtt.client import SECRET, signed

NOW = 1_800_000_000.0

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)


def parse(name: CommandName | None, payload: bytes, **kw: Any) -> Any:
    kw.setdefault("auth", CommandAuth.HMAC)
    kw.setdefault("secret", SECRET)
    return parse_command(name, payload, now=NOW, max_skew_s=300, **kw)


@settings(max_examples=300, deadline=None)
@given(
    name=st.sampled_from([*CommandName, None]),
    payload=st.binary(max_size=300)
    | json_values.map(lambda v: json.dumps(v).encode())
    | st.builds(
        lambda i, a: json.dumps({"id": i, "args": a, "ts": NOW, "sig": "0" * 64}).encode(),
        st.text(max_size=70),
        json_values,
    ),
)
def test_anything_unsigned_is_refused_with_a_type(name: CommandName | None, payload: bytes) -> None:
    with pytest.raises(CommandRefused) as refused:
        parse(name, payload)
    assert refused.value.kind in {ErrorKind.MALFORMED, ErrorKind.UNAUTHORISED}
    # The refusal never quotes what was sent.
    if len(payload) > 8:
        assert payload.decode(errors="replace") not in refused.value.message


@settings(max_examples=200, deadline=None)
@given(
    name=st.sampled_from(list(CommandName)),
    args=st.dictionaries(st.text(max_size=10), json_values, max_size=4),
)
def test_signed_garbage_args_are_malformed_never_a_crash(
    name: CommandName, args: dict[str, Any]
) -> None:
    try:
        payload = signed(name.value, "fuzz-1", args, ts=NOW)
    except ValueError:
        return  # not JSON-encodable (nan is, but it is refused below): nothing to send
    outcome = _outcome(name, payload)
    if isinstance(outcome, CommandRefused):
        # Signed by the documented recipe, so never unauthorised: only the args are wrong.
        assert outcome.kind is ErrorKind.MALFORMED, outcome.message
        assert outcome.command_id == "fuzz-1"
    else:
        assert outcome.command_id == "fuzz-1"
        assert outcome.name is name


def _outcome(name: CommandName, payload: bytes) -> Any:
    try:
        return parse(name, payload)
    except CommandRefused as refused:
        return refused


def test_a_signed_command_is_accepted_and_its_args_are_the_api_body() -> None:
    command = parse(CommandName.PAUSE, signed("pause", "c-1", {"reason": "x"}, ts=NOW))
    assert command.args == PauseBody(reason="x")


@pytest.mark.parametrize(
    ("payload", "kind"),
    [
        (signed("pause", "c-1", {}, ts=NOW, secret="other"), ErrorKind.UNAUTHORISED),
        (signed("pause", "c-1", {}, ts=NOW - 301), ErrorKind.UNAUTHORISED),
        (signed("resume", "c-1", {}, ts=NOW), ErrorKind.UNAUTHORISED),  # signed for another
        (signed("pause", "c-1", {"reason": 1}, ts=NOW), ErrorKind.MALFORMED),
        (signed("pause", "c-1", {"extra": 1}, ts=NOW), ErrorKind.MALFORMED),
        (b'{"id": "c/1#", "args": {}}', ErrorKind.MALFORMED),
        (b"x" * 20_000, ErrorKind.MALFORMED),
    ],
)
def test_refusals(payload: bytes, kind: ErrorKind) -> None:
    with pytest.raises(CommandRefused) as refused:
        parse(CommandName.PAUSE, payload)
    assert refused.value.kind is kind


def test_token_auth_and_no_secret() -> None:
    body = json.dumps({"id": "t-1", "token": "tok", "args": {}}).encode()
    assert parse(CommandName.RESUME, body, auth=CommandAuth.TOKEN, secret="tok").command_id
    with pytest.raises(CommandRefused):
        parse(CommandName.RESUME, body, auth=CommandAuth.TOKEN, secret="other")
    with pytest.raises(CommandRefused) as refused:
        parse(CommandName.RESUME, body, auth=CommandAuth.TOKEN, secret=None)
    assert refused.value.kind is ErrorKind.UNAUTHORISED


def test_topics() -> None:
    topics = Topics("hashpivot/s/")
    assert topics.command_name("hashpivot/s/cmd/event/create") is CommandName.EVENT_CREATE
    assert topics.command_name("hashpivot/s/cmd/nope") is None
    assert topics.command_name("other/cmd/pause") is None
    assert time.time() > 0
