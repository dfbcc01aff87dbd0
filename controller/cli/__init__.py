"""The ``hashpivot`` command line: ``python -m controller.cli`` or the ``hashpivot`` script."""

from controller.cli.main import main

__all__ = ["main"]
