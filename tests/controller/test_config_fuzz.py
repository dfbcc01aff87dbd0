"""Any edit of a good config either loads and builds the daemon's parts, or is a ConfigError.

Starting from the shipped example, hypothesis replaces, deletes or adds values at any
depth; ``hashpivot run`` turns a ConfigError into one clear line, so anything else
escaping here would be a traceback for the operator.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings

from controller.app import build_fleet
from controller.config.settings import parse_config
from controller.errors import ConfigError
from controller.reconcile.meter import open_meter
from drivers.clock import SYSTEM_TIME
from tests.edits import NEWLINE_KEY, assert_one_line, edited, with_newline_key

EXAMPLE = Path(__file__).resolve().parents[2] / "deploy" / "examples" / "hashpivot-small.yaml"
BASE: dict[str, Any] = yaml.safe_load(EXAMPLE.read_text())
# The example's scheduler block is commented out; fuzz it too.
BASE["scheduler"] = {
    "slurm_conf": "/etc/slurm/slurm.conf",
    "class_rule": {"by": "partition", "interruptible": ["spot"]},
    "checkpoint_signal": "USR1",
    "checkpoint_grace_s": 300,
    "nodes": {"127.0.4.1": "gpu01", "127.0.4.2": "gpu02"},
}


def build(data: Any) -> tuple[int, int]:
    """What ``hashpivot run`` does with a config before it opens any socket.

    Returns (devices the config lists, drivers the fleet holds).
    """
    config = parse_config(data)
    fleet = build_fleet(config, clock=SYSTEM_TIME)
    config.control.to_settings()
    config.policy.to_settings()
    if config.scheduler is not None:
        config.scheduler.slurm_settings()
        config.scheduler.to_settings()
    if config.meter is not None:
        open_meter(config.meter, SYSTEM_TIME)
    return sum(len(group.hosts()) for group in config.devices), len(fleet)


def test_the_example_builds() -> None:
    listed, built = build(copy.deepcopy(BASE))
    assert listed == built > 0


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(doc=edited(BASE))
def test_any_edit_builds_or_is_a_config_error(doc: dict[str, Any]) -> None:
    try:
        listed, built = build(doc)
    except ConfigError as exc:
        assert_one_line(exc)  # what `hashpivot run` prints
    else:
        assert built == listed  # one driver per listed device, none lost or doubled


@pytest.mark.parametrize("top", [None, [], "devices", 3])
def test_a_config_that_is_not_a_mapping_is_a_config_error(top: Any) -> None:
    with pytest.raises(ConfigError, match="mapping"):
        build(top)


def test_a_key_with_a_newline_is_named_on_one_line() -> None:
    with pytest.raises(ConfigError) as caught:
        build(with_newline_key(BASE))
    assert_one_line(caught.value, names=repr(NEWLINE_KEY)[1:-1])
