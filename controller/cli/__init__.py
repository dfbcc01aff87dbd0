"""The ``hashpivot`` command line: ``python -m controller.cli`` or the ``hashpivot`` script."""

from controller.cli.entry import main

__all__ = ["main"]
