"""Import pyasic on first use, with its side effects contained.

On import pyasic calls ``logging.basicConfig`` and sets the *root* logger to
WARNING, which would silence the application; it then logs through the root
logger's module functions (``logging.debug(...)``) and warns through
``warnings.warn``. Here the root logger's handlers and level are saved and
restored around the import, warnings raised during it are swallowed, and every
loaded ``pyasic`` module's ``logging`` name is pointed at a shim that sends
those calls to the ``drivers.pyasic_adapter.pyasic`` logger instead of root.

This is the one module that imports pyasic: the import-linter contract "pyasic
stays behind its adapter" lets this adapter, and nothing else, name it.
"""

from __future__ import annotations

import importlib
import logging
import sys
import threading
import warnings
from types import ModuleType
from typing import Any

from drivers.errors import UnsupportedError

__all__ = ["PYASIC_LOGGER", "load_pyasic", "pyasic_module"]

PYASIC_LOGGER = logging.getLogger("drivers.pyasic_adapter.pyasic")
_LOCK = threading.Lock()
_loaded: dict[str, ModuleType] = {}


class _LoggingShim:
    """Stands in for the ``logging`` module inside pyasic's modules.

    The root-logger helpers go to :data:`PYASIC_LOGGER`; everything else
    (``getLogger``, ``DEBUG``, ...) is the real module's. ``basicConfig`` does nothing.
    """

    debug = staticmethod(PYASIC_LOGGER.debug)
    info = staticmethod(PYASIC_LOGGER.info)
    warning = staticmethod(PYASIC_LOGGER.warning)
    error = staticmethod(PYASIC_LOGGER.error)
    exception = staticmethod(PYASIC_LOGGER.exception)
    critical = staticmethod(PYASIC_LOGGER.critical)

    @staticmethod
    def basicConfig(*_args: Any, **_kwargs: Any) -> None:
        return None

    def __getattr__(self, name: str) -> Any:
        return getattr(logging, name)


_SHIM = _LoggingShim()


def _reroute_logging() -> None:
    root = logging.getLogger()
    for name, module in list(sys.modules.items()):
        if module is None or not (name == "pyasic" or name.startswith("pyasic.")):
            continue
        namespace = vars(module)
        if namespace.get("logging") is logging:
            namespace["logging"] = _SHIM
        if namespace.get("logger") is root:  # pyasic.logger.logger is the root logger itself
            namespace["logger"] = PYASIC_LOGGER


def load_pyasic() -> ModuleType:
    """The ``pyasic`` package, imported once; UnsupportedError if the extra is missing."""
    with _LOCK:
        if "pyasic" in _loaded:
            _reroute_logging()  # modules pyasic imported lazily since last time
            return _loaded["pyasic"]
        root = logging.getLogger()
        handlers, level = list(root.handlers), root.level
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                import pyasic  # noqa: PLC0415 - on first use only, never at start-up
                import pyasic.miners.data  # noqa: PLC0415

                module: ModuleType = pyasic
        except ImportError as exc:
            raise UnsupportedError(
                "pyasic",
                f"the pyasic adapter needs the extra: pip install 'hashpivot[pyasic]' ({exc})",
            ) from None
        finally:
            root.handlers[:] = handlers
            root.setLevel(level)
        _reroute_logging()
        # Its warnings (unknown models, deprecations) are pyasic's business, not the app's.
        warnings.filterwarnings("ignore", module=r"pyasic(\.|$)")
        _loaded["pyasic"] = module
        return module


def pyasic_module(name: str) -> ModuleType:
    load_pyasic()
    return importlib.import_module(name)
