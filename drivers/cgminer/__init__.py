"""CGMiner-style RPC on TCP 4028, shared by Antminer, Whatsminer v2 and Auradine drivers."""

from drivers.cgminer.protocol import CgminerRpc, check_envelope, load_json, request_bytes
from drivers.cgminer.transport import RpcTransport

__all__ = ["CgminerRpc", "RpcTransport", "check_envelope", "load_json", "request_bytes"]
