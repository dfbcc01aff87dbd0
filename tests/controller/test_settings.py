"""The controller's configuration: what it accepts, and how it says what is wrong."""

from __future__ import annotations

from pathlib import Path

import pytest

from controller.config.settings import load_config, parse_config
from controller.errors import ConfigError
from drivers import Make

MINIMAL = {"site": "s1", "devices": [{"make": "antminer", "start": "127.0.1.1", "count": 3}]}


def test_minimal_config_has_sane_defaults() -> None:
    config = parse_config(MINIMAL)
    assert config.listen == "127.0.0.1:9861"
    assert config.poll_interval_s == 10.0
    assert config.devices[0].hosts() == ["127.0.1.1", "127.0.1.2", "127.0.1.3"]


def test_address_forms() -> None:
    config = parse_config(
        {
            "site": "s",
            "devices": [
                {"make": "antminer", "address": "127.0.2.1"},
                {"make": "antminer", "addresses": ["127.0.2.5", "127.0.2.6"]},
                {"make": "antminer", "cidr": "127.0.3.0/30", "ports": {"web": 10080}},
            ],
        }
    )
    assert [g.hosts() for g in config.devices] == [
        ["127.0.2.1"],
        ["127.0.2.5", "127.0.2.6"],
        ["127.0.3.1", "127.0.3.2"],
    ]
    assert config.devices[2].endpoints()[0].port("web", 80) == 10080


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"poll_interval_s": -1}, "poll_interval_s"),
        ({"listen": "9861"}, "listen: must be HOST:PORT"),
        ({"site": ""}, "site"),
        ({"devices": []}, "devices"),
        ({"devices": [{"make": "bitaxe", "address": "127.0.0.1"}]}, "devices.0.make"),
        ({"devices": [{"make": "antminer", "address": "not-an-ip"}]}, "not-an-ip"),
        ({"devices": [{"make": "antminer", "start": "127.0.0.1"}]}, "start needs count"),
        (
            {"devices": [{"make": "antminer", "address": "127.0.0.1", "cidr": "127.0.0.0/30"}]},
            "exactly one of",
        ),
        (
            {"devices": [{"make": "antminer", "address": "127.0.0.1", "ports": {"http": 1}}]},
            "unknown port name",
        ),
        (
            {
                "devices": [
                    {"make": "antminer", "address": "127.0.0.1"},
                    {"make": "antminer", "address": "127.0.0.1"},
                ]
            },
            "listed twice",
        ),
        ({"pool_interval": 5}, "pool_interval: Extra inputs are not permitted"),
    ],
)
def test_bad_config_names_the_field(change: dict[str, object], expected: str) -> None:
    with pytest.raises(ConfigError, match=expected.replace(".", r"\.")):
        parse_config({**MINIMAL, **change})


def test_bad_yaml_is_one_clear_message(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("site: [unclosed\n")
    with pytest.raises(ConfigError, match="not valid YAML at line"):
        load_config(path)
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(tmp_path / "missing.yaml")
    path.write_text("- a list\n")
    with pytest.raises(ConfigError, match="mapping at the top level"):
        load_config(path)


def test_credentials_sources(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    secret = tmp_path / "pw"
    secret.write_text("from-file\n")
    monkeypatch.setenv("SITE_PW", "from-env")
    monkeypatch.setenv("HASHPIVOT_ANTMINER_PASSWORD", "from-default-env")
    config = parse_config(
        {
            "site": "s",
            "devices": [
                {
                    "make": "antminer",
                    "address": "127.0.0.1",
                    "credentials": {"username": "ops", "password": "inline"},
                },
                {
                    "make": "antminer",
                    "address": "127.0.0.2",
                    "credentials": {"password_env": "SITE_PW"},
                },
                {
                    "make": "antminer",
                    "address": "127.0.0.3",
                    "credentials": {"password_file": str(secret)},
                },
                {"make": "antminer", "address": "127.0.0.4"},
            ],
        }
    )
    resolved = [config.credentials_for(group) for group in config.devices]
    assert [c.password for c in resolved] == ["inline", "from-env", "from-file", "from-default-env"]
    assert resolved[0].username == "ops"
    assert resolved[1].username == "root"
    assert "inline" not in repr(config)
    assert "inline" not in repr(resolved[0])


def test_missing_password_env_is_a_config_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NOPE_PW", raising=False)
    config = parse_config(
        {
            "site": "s",
            "credentials": {"antminer": {"password_env": "NOPE_PW"}},
            "devices": [{"make": "antminer", "address": "127.0.0.1"}],
        }
    )
    with pytest.raises(ConfigError, match=r"\$NOPE_PW is not set"):
        config.credentials_for(config.devices[0])
    assert config.credentials[Make.ANTMINER].password_env == "NOPE_PW"


def test_example_config_is_valid() -> None:
    config = load_config(Path(__file__).parents[2] / "deploy/examples/hashpivot-small.yaml")
    assert config.listen == "127.0.0.1:9861"
