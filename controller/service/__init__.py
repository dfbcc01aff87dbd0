"""The seam between the controller's parts and its inputs and outputs.

- :class:`ControlService` (``control.py``): what may be asked for. Every change is
  journaled and committed before it takes effect, then the loop plans.
- :class:`ReadModel` (``read_model.py``): what may be read. The API, the metrics, the
  operator page, the MQTT bridge and the demo's summary read the site through it, never
  through the controller's parts; :class:`LiveReadModel` (``live.py``) is the one
  implementation, over the running parts.

Import from the modules: the package re-exports nothing, so each name has one list, the
module's ``__all__``.
"""
