"""Signals: what the grid, the market and the network tell the controller, unattended.

A source starts, stops and emits typed updates (:mod:`controller.signals.updates`) into
the hub (:mod:`controller.signals.hub`), which checks them, ages them and hands them to
the same command service the HTTP API uses. Each source has its own section under
``signals:`` in the config file and is off unless configured.

Import from the modules (``controller.signals.updates`` and the others): the package
re-exports nothing, so there is one list of each module's names, its ``__all__``.
"""
