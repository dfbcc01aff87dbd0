"""Simulated mining devices: real servers on real loopback sockets.

Unmodified clients (pyasic 0.79.0, hashpivot's drivers) talk to them as to hardware.
Each device has its own 127.x.y.z address on the standard ports. Physics (power,
hashrate, fans, temperatures, sleep/wake/reboot phases) is evaluated lazily from one
simulated clock, so a fleet of 10,000 costs nothing between reads.

Python API::

    from simulators import Fleet, PortMap, load_site, load_site_dict

    site = load_site("deploy/examples/site-small.yaml")   # or load_site_dict({...})
    async with Fleet(site, speed=60.0, listen="exact", ports=PortMap()) as fleet:
        dev = fleet.device("127.0.1.21")     # a SimDevice
        dev.address, dev.make, dev.model
        dev.snapshot()                      # DeviceSnapshot: phase, mode, power_w,
                                            # hashrate_hs, fans_rpm, chip_temps_c, uptime_s...
        dev.faults.inject("stall")          # refuse | stall | slow (seconds=) | malformed
        dev.faults.clear()                  # | truncated | ack_sleep_keep_hashing
                                            # | ignore_writes
        dev.reboot()                        # offline for reboot_s, then boot and ramp
        dev.pools                           # stored pool config: check nothing wiped it
        fleet.clock.advance(600)            # jump simulated time instead of waiting

``speed`` compresses time (speed 60: a 10-minute ramp takes 10 s). Site entries may
set ``timings: instant`` (or per-phase seconds) for protocol tests and benchmarks.
``PortMap(rpc=..., web=...)`` moves the ports (pyasic itself needs 4028 and 80).
``listen``: ``exact`` (a socket per device and port; fleets on different 127.x ranges
coexist), ``shared`` (one wildcard socket per port, routed by destination address;
for 10,000+ devices), or ``auto``.

Command line: ``hashpivot sim SITE.yaml [--speed F] [--listen auto|exact|shared]
[--unprivileged] [--control 127.0.0.1:9870]`` (see ``simulators.cli``).
"""

from simulators.clock import SimClock
from simulators.device import DeviceSnapshot, PoolEntry, SimDevice
from simulators.errors import (
    PortPermissionError,
    PortUnavailableError,
    SimulatorError,
    SiteError,
    UnknownDeviceError,
    UnknownFaultError,
)
from simulators.faults import Fault, FaultKind, FaultSet
from simulators.fleet import Fleet
from simulators.netserve import ListenMode
from simulators.physics import Phase, Timings, WorkMode
from simulators.ports import PortMap
from simulators.site import Site, load_site, load_site_dict

__all__ = [
    "DeviceSnapshot",
    "Fault",
    "FaultKind",
    "FaultSet",
    "Fleet",
    "ListenMode",
    "Phase",
    "PoolEntry",
    "PortMap",
    "PortPermissionError",
    "PortUnavailableError",
    "SimClock",
    "SimDevice",
    "SimulatorError",
    "Site",
    "SiteError",
    "Timings",
    "UnknownDeviceError",
    "UnknownFaultError",
    "WorkMode",
    "load_site",
    "load_site_dict",
]
