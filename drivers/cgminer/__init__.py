"""CGMiner-style RPC on TCP 4028, shared by the miner makes' drivers."""

from drivers.cgminer.protocol import CgminerRpc, check_envelope, load_json, request_bytes
from drivers.cgminer.transport import RpcTransport

__all__ = ["CgminerRpc", "RpcTransport", "check_envelope", "load_json", "request_bytes"]
