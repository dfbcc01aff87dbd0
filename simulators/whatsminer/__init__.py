"""Simulated MicroBT Whatsminers (M30S++, M50S, M60S, M63S): API v2 on 4028, v3 on 4433."""

from simulators.whatsminer.device import (
    FIRMWARE_V2,
    FIRMWARE_V3,
    WhatsminerDevice,
    WhatsminerOptions,
)
from simulators.whatsminer.models import (
    WHATSMINER_MODELS,
    WhatsminerModel,
    lookup_whatsminer_model,
)
from simulators.whatsminer.state import PowerMode, WhatsminerQuirk

__all__ = [
    "FIRMWARE_V2",
    "FIRMWARE_V3",
    "WHATSMINER_MODELS",
    "PowerMode",
    "WhatsminerDevice",
    "WhatsminerModel",
    "WhatsminerOptions",
    "WhatsminerQuirk",
    "lookup_whatsminer_model",
]
