"""Stock-firmware Bitmain Antminer (S19 and S21 families).

Layers, each usable alone: ``transport`` (HTTP bytes, digest session, timeouts),
``protocol`` / ``cgi`` (pure parsers into ``records``), ``api`` (typed requests with
the retry policy), ``state`` (mining state and power estimate) and ``device``
(:class:`drivers.antminer.device.AntminerDriver`, the :class:`MinerDriver`).
Reach it through :func:`drivers.open_driver`.
"""
