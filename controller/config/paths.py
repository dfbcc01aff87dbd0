"""Where hashpivot keeps files it was not given a full path for.

State (the journal) goes to the directory systemd made for the unit
(``StateDirectory=hashpivot`` sets ``$STATE_DIRECTORY``, /var/lib/hashpivot), else to
the user's state directory (``$XDG_STATE_HOME/hashpivot``, by default
~/.local/state/hashpivot), so that a development run never shares /tmp with another
user's and a service's state survives ``PrivateTmp=`` and restarts.
"""

from __future__ import annotations

import os
from importlib.resources import files
from pathlib import Path

__all__ = ["example", "resolve_state_path", "state_dir"]


def state_dir(environ: dict[str, str] | None = None) -> Path:
    env = os.environ if environ is None else environ
    # systemd passes one path per StateDirectory= entry, colon-separated; ours is the first.
    systemd = env.get("STATE_DIRECTORY", "").split(":")[0]
    if systemd:
        return Path(systemd)
    xdg = env.get("XDG_STATE_HOME", "")
    # The XDG spec says a relative value is invalid and must be ignored.
    base = Path(xdg) if xdg and Path(xdg).is_absolute() else Path.home() / ".local" / "state"
    return base / "hashpivot"


def resolve_state_path(path: str | Path, environ: dict[str, str] | None = None) -> Path:
    """An absolute path as given; a relative one under :func:`state_dir`."""
    expanded = Path(path).expanduser()
    return expanded if expanded.is_absolute() else state_dir(environ) / expanded


def example(name: str) -> Path:
    """A file shipped with the package under controller/examples (site and config)."""
    resource = files("controller") / "examples" / name
    # A regular install (wheel or editable) unpacks to the file system; zipped installs are
    # not supported, as the simulator runs as a child process that needs a real path.
    return Path(str(resource))
