"""Optional adapter: firmware hashpivot does not drive natively, through pyasic.

Installed with the ``pyasic`` extra; pyasic is imported on first use, never at
``import drivers`` time. See :class:`PyasicDriver`.
"""

from drivers.pyasic_adapter.device import PyasicDriver
from drivers.pyasic_adapter.loader import PYASIC_LOGGER, load_pyasic

__all__ = ["PYASIC_LOGGER", "PyasicDriver", "load_pyasic"]
