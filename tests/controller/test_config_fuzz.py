"""Any edit of a good config either loads and builds the daemon's parts, or is a ConfigError.

Starting from the shipped example, hypothesis replaces, deletes or adds values at any
depth; ``hashpivot run`` turns a ConfigError into one clear line, so anything else
escaping here would be a traceback for the operator.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import given

from controller.app import build_fleet
from controller.config.settings import parse_config
from controller.errors import ConfigError
from controller.reconcile.meter import open_meter
from drivers.clock import SYSTEM_TIME
from tests.edits import EDITS, assert_newline_key_named, built_or_refused, edited, example

BASE = example("hashpivot-small.yaml")
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


@EDITS
@given(doc=edited(BASE))
def test_any_edit_builds_or_is_a_config_error(doc: dict[str, Any]) -> None:
    counts = built_or_refused(build, doc, ConfigError)
    if counts is not None:
        listed, built = counts
        assert built == listed  # one driver per listed device, none lost or doubled


@pytest.mark.parametrize("top", [None, [], "devices", 3])
def test_a_config_that_is_not_a_mapping_is_a_config_error(top: Any) -> None:
    with pytest.raises(ConfigError, match="mapping"):
        build(top)


def test_a_key_with_a_newline_is_named_on_one_line() -> None:
    assert_newline_key_named(build, BASE, ConfigError)
