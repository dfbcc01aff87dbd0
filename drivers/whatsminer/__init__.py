"""MicroBT Whatsminer (btminer): API v2 on 4028 and API v3 on 4433."""

from drivers.whatsminer.device import WhatsminerDriver

__all__ = ["WhatsminerDriver"]
