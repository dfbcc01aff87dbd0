"""Hardware-in-the-loop check of the backtest: a short window of the same inputs through
the real controller, against the simulated site, on the simulator's compressed clock.

``hashpivot backtest SITE.yaml --hil HOURS`` runs it beside the fast mode over the same
window and reports both (:mod:`controller.backtest.cli`). Python API::

    window, _ = choose_window(inputs, 2.0)
    measured = replay(site, window, site_path=path, config_path=config, speed=120)
"""

from __future__ import annotations

from controller.hil.run import replay
from controller.hil.site import HIL_PREFIX

__all__ = ["HIL_PREFIX", "replay"]
