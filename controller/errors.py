"""The controller's exception root."""

from __future__ import annotations

__all__ = ["ConfigError", "ControllerError"]


class ControllerError(Exception):
    """Root of every error the controller raises itself."""


class ConfigError(ControllerError):
    """The configuration is wrong; the message names the field and is fit to print."""
