"""The control loop: plans become device commands, confirmed by read-back and the meter.

``Reconciler`` (loop) plans and dispatches; ``Dispatcher`` (dispatch) runs one serial
worker per device under a priority gate; ``Verifier`` (confirm) checks the physical
effect in later telemetry; ``SitePowerWatch`` (meter) and ``EventTracker`` (events)
follow each grid event's drop on the site meter; ``compliance`` reports on it.
"""

from __future__ import annotations

from controller.reconcile.dispatch import CommandResult, Dispatcher, Job
from controller.reconcile.events import EventTracker
from controller.reconcile.gate import Priority, PriorityGate
from controller.reconcile.loop import LoopStats, Reconciler
from controller.reconcile.meter import SiteMeter, SitePower, SitePowerWatch, open_meter
from controller.reconcile.plans import PlanView

__all__ = [
    "CommandResult",
    "Dispatcher",
    "EventTracker",
    "Job",
    "LoopStats",
    "PlanView",
    "Priority",
    "PriorityGate",
    "Reconciler",
    "SiteMeter",
    "SitePower",
    "SitePowerWatch",
    "open_meter",
]
