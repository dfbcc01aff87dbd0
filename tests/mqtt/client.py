"""Commands as an operator's own tool would send them: signed by the documented recipe
(docs/mqtt.md), written here independently of the controller's code."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any

SECRET = "mqtt-command-secret"


def signed(
    name: str,
    command_id: str,
    args: dict[str, Any],
    *,
    secret: str = SECRET,
    ts: float | None = None,
) -> bytes:
    ts = time.time() if ts is None else ts
    canonical = json.dumps(args, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    text = f"{name}\n{command_id}\n{ts!r}\n{canonical}".encode()
    sig = hmac.new(secret.encode(), text, hashlib.sha256).hexdigest()
    return json.dumps({"id": command_id, "ts": ts, "args": args, "sig": sig}).encode()
