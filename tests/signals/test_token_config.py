"""The ERCOT token's configuration (one of sign-in, token file, fixed token; one-line errors;
the password never in the config's text nor in an error) and the token-reply parser,
fuzzed."""

from __future__ import annotations

import base64
import json
import math
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from controller.clock import ManualClock
from controller.config.settings import parse_config
from controller.errors import ConfigError
from controller.signals.config import SignalsConfig, build_sources
from controller.signals.errors import BadSignal, ErrorKind
from controller.signals.prices import ErcotPrices
from controller.signals.signin import ERCOT_CLIENT_ID, ErcotSignIn
from controller.signals.token_reply import parse_token_reply
from controller.signals.tokens import MAX_TOKEN_CHARS, StaticToken, TokenFile
from tests.signals.conftest import RAW_BODIES

SITE = {"site": "s1", "devices": [{"make": "antminer", "start": "127.171.2.1", "count": 3}]}
NOW = 1_700_000_000.0


def ercot(**section: Any) -> dict[str, Any]:
    return {**SITE, "signals": {"ercot": {"settlement_point": "LZ_WEST", **section}}}


def sources(section: dict[str, Any]) -> list[ErcotPrices]:
    config = SignalsConfig.model_validate({"ercot": {"settlement_point": "LZ_WEST", **section}})
    built = build_sources(config, ManualClock())
    assert all(isinstance(s, ErcotPrices) for s in built)
    return built  # type: ignore[return-value]


def test_sign_in_defaults_to_ercots_values_and_one_provider_serves_both_reports(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ERCOT_PASSWORD", "s3cret")
    real_time, day_ahead = sources(
        {"sign_in": {"username": "ops@site.example", "password": {"env": "ERCOT_PASSWORD"}}}
    )
    token = real_time.token
    assert isinstance(token, ErcotSignIn)
    assert token is day_ahead.token
    assert token.settings.token_url.endswith("/B2C_1_PUBAPI-ROPC-FLOW/oauth2/v2.0/token")
    assert token.settings.client_id == ERCOT_CLIENT_ID
    assert token.settings.scope == f"openid {ERCOT_CLIENT_ID} offline_access"
    assert "Authorization" not in real_time.headers


def test_a_bearer_token_is_a_watched_file_or_a_fixed_token(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("ERCOT_ID_TOKEN", "abc.def.ghi")
    [source, _] = sources({"bearer_token": {"env": "ERCOT_ID_TOKEN"}})
    assert isinstance(source.token, StaticToken)
    # The tool that writes the file may start after us: not there yet is not a bad config.
    [source, _] = sources({"bearer_token": {"file": str(tmp_path / "later")}})
    assert isinstance(source.token, TokenFile)
    [source, _] = sources({})
    assert source.token is None


@pytest.mark.parametrize(
    ("section", "said"),
    [
        (
            {"sign_in": {"username": "u", "password": {"value": "hunter2"}}},
            "password: give the password as {env: NAME} or {file: path}, not inline",
        ),
        (
            {"sign_in": {"username": "u", "password": "hunter2"}},
            "password: give the password as {env: NAME} or {file: path}, not inline",
        ),
        (
            {"sign_in": {"username": "u", "password": {"env": "A", "file": "/b"}}},
            "give exactly one of value, env, file",
        ),
        (
            {
                "sign_in": {"username": "u", "password": {"env": "P"}},
                "bearer_token": {"env": "T"},
            },
            "signals.ercot: give sign_in or bearer_token, not both",
        ),
        (
            {"sign_in": {"username": "u", "password": {"env": "P"}, "client_id": "x y"}},
            "signals.ercot.sign_in.client_id: String should match pattern",
        ),
        (
            {"sign_in": {"username": "u", "password": {"env": "P"}, "token_url": "ftp://x"}},
            "signals.ercot.sign_in.token_url: String should match pattern",
        ),
        (
            {"sign_in": {"username": "u", "password": {"env": "P"}, "pasword": "hunter2"}},
            "signals.ercot.sign_in.pasword: Extra inputs are not permitted",
        ),
    ],
)
def test_bad_token_config_is_one_line_without_the_password(
    section: dict[str, Any], said: str
) -> None:
    with pytest.raises(ConfigError) as info:
        parse_config(ercot(**section))
    message = str(info.value)
    assert said in message
    assert "\n" not in message
    assert "hunter2" not in message


def test_a_password_that_cannot_be_read_stops_the_start_in_one_line(tmp_path: Path) -> None:
    missing = {"username": "u", "password": {"file": str(tmp_path / "nope")}}
    with pytest.raises(ConfigError, match=r"sign_in.password: cannot read .*nope"):
        sources({"sign_in": missing})
    with pytest.raises(ConfigError, match=r"bearer_token: not a bearer token"):
        sources({"bearer_token": {"value": "two words"}})


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def jwt(claims: object) -> str:
    return ".".join((b64(b'{"alg":"RS256"}'), b64(json.dumps(claims).encode()), b64(b"sig")))


def test_the_token_reply_gives_the_id_token_and_the_earliest_expiry() -> None:
    token = jwt({"exp": NOW + 1800})
    reply = {"id_token": token, "access_token": jwt({"exp": NOW + 9}), "expires_in": "3600"}
    parsed = parse_token_reply(json.dumps(reply).encode(), NOW)
    assert (parsed.value, parsed.expires_at) == (token, NOW + 1800)  # the JWT's exp
    reply = {"id_token": "opaque", "id_token_expires_in": "600", "expires_in": 3600}
    assert parse_token_reply(json.dumps(reply).encode(), NOW).expires_at == NOW + 600
    reply = {"access_token": "opaque"}  # no lifetime given: ERCOT's documented hour
    assert parse_token_reply(json.dumps(reply).encode(), NOW).expires_at == NOW + 3600
    expired = {"id_token": jwt({"exp": NOW - 1}), "expires_in": 3600}
    with pytest.raises(BadSignal) as info:
        parse_token_reply(json.dumps(expired).encode(), NOW)
    assert info.value.kind is ErrorKind.ABSURD


_numbers = st.integers(-(10**30), 10**30) | st.floats(allow_nan=True, allow_infinity=True)
_values = st.recursive(  # any JSON value, numbers as numbers and as strings
    st.none() | st.booleans() | _numbers | _numbers.map(str) | st.text(max_size=40),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner),
    max_leaves=6,
)
_tokens = st.one_of(
    st.text(max_size=60),
    st.text(alphabet="abcXYZ019-._~+/=", min_size=1, max_size=60),
    st.dictionaries(st.sampled_from(["exp", "nbf", "aud"]), _values, max_size=3).map(jwt),
    st.builds(lambda exp: jwt({"exp": exp}), _values),
    st.integers(10**300, 10**400).map(lambda exp: jwt({"exp": exp})),
)


@settings(max_examples=400, deadline=None)
@given(
    st.one_of(
        RAW_BODIES,
        st.dictionaries(
            st.sampled_from(
                ["id_token", "access_token", "expires_in", "id_token_expires_in", "error"]
            ),
            st.one_of(_tokens, _values),
            max_size=5,
        ).map(lambda d: json.dumps(d).encode()),
        _values.map(lambda v: json.dumps(v).encode()),
    )
)
def test_fuzz_the_token_reply_parser_only_raises_bad_signal(body: bytes) -> None:
    kinds: list[ErrorKind] = []
    try:
        token = parse_token_reply(body, NOW)
    except BadSignal as exc:
        kinds.append(exc.kind)
    if kinds:
        assert isinstance(kinds[0], ErrorKind)
        return
    assert 0 < len(token.value) <= MAX_TOKEN_CHARS
    assert token.value.isascii()
    assert not any(c.isspace() for c in token.value)
    assert math.isfinite(token.expires_at)
    assert NOW < token.expires_at <= NOW + 86_400
