"""The Whatsminer API's cryptography: md5-crypt tokens and AES-256-ECB (v2), SHA-256 (v3).

md5-crypt is implemented here (it is short) rather than taken from passlib, which is
unmaintained and warns on import; tests check it against passlib and known vectors.
AES comes from ``cryptography``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from typing import Any

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from simulators.errors import SimulatorError

__all__ = [
    "DecryptError",
    "aes_key",
    "decrypt_json",
    "encrypt_json",
    "md5_crypt",
    "md5_crypt_field",
    "v3_token",
]

_ITOA64 = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_MAGIC = b"$1$"


def _to64(value: int, count: int) -> str:
    out = []
    for _ in range(count):
        out.append(_ITOA64[value & 0x3F])
        value >>= 6
    return "".join(out)


def md5_crypt(password: str, salt: str) -> str:
    """FreeBSD md5-crypt: ``$1$<salt>$<22 characters>`` (salt truncated to 8)."""
    pw = password.encode()
    sl = salt.encode()[:8]
    alternate = hashlib.md5(pw + sl + pw).digest()
    ctx = pw + _MAGIC + sl
    for remaining in range(len(pw), 0, -16):
        ctx += alternate[: min(16, remaining)]
    bits = len(pw)
    while bits:
        ctx += b"\x00" if bits & 1 else pw[:1]
        bits >>= 1
    digest = hashlib.md5(ctx).digest()
    # 1000 rounds, deliberately slow in the original; cheap enough for a simulator.
    for i in range(1000):
        block = pw if i & 1 else digest
        if i % 3:
            block += sl
        if i % 7:
            block += pw
        block += digest if i & 1 else pw
        digest = hashlib.md5(block).digest()
    d = digest
    encoded = "".join(
        _to64(d[a] << 16 | d[b] << 8 | d[c], 4)
        for a, b, c in ((0, 6, 12), (1, 7, 13), (2, 8, 14), (3, 9, 15), (4, 10, 5))
    )
    encoded += _to64(d[11], 2)
    return f"$1${sl.decode()}${encoded}"


def md5_crypt_field(password: str, salt: str) -> str:
    """Field 3 of the md5-crypt string split on ``$``: what the token scheme uses."""
    return md5_crypt(password, salt).split("$")[3]


def aes_key(key_field: str) -> bytes:
    """The AES-256 key: SHA-256 of the password's md5-crypt field, 32 raw bytes."""
    return hashlib.sha256(key_field.encode()).digest()


def _cipher(key: bytes) -> Cipher[modes.ECB]:
    return Cipher(algorithms.AES(key), modes.ECB())  # noqa: S305 - the protocol's choice


def encrypt_json(key: bytes, obj: dict[str, Any]) -> str:
    """JSON, NUL-padded to a multiple of 16 (not PKCS#7), AES-ECB, base64 (one line)."""
    plain = json.dumps(obj).encode()
    plain += b"\x00" * (-len(plain) % 16)
    encryptor = _cipher(key).encryptor()
    return base64.b64encode(encryptor.update(plain) + encryptor.finalize()).decode()


class DecryptError(SimulatorError, ValueError):
    """The ``data`` field is not base64 (``base64``) or not JSON once decrypted (``json``)."""

    def __init__(self, stage: str) -> None:
        super().__init__(f"cannot decrypt: bad {stage}", code=f"decrypt-{stage}")
        self.stage = stage


def decrypt_json(key: bytes, data: str) -> dict[str, Any]:
    try:
        cipher_text = base64.b64decode(data, validate=False)
    except (binascii.Error, ValueError):
        raise DecryptError("base64") from None
    if not cipher_text or len(cipher_text) % 16:
        raise DecryptError("base64")
    decryptor = _cipher(key).decryptor()
    plain = (decryptor.update(cipher_text) + decryptor.finalize()).rstrip(b"\x00")
    try:
        obj = json.loads(plain.decode())
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise DecryptError("json") from None
    if not isinstance(obj, dict):
        raise DecryptError("json")
    return obj


def v3_token(command: str, password: str, salt: str, ts: int) -> str:
    """API v3: the first 8 characters of base64(SHA-256(cmd + password + salt + ts))."""
    digest = hashlib.sha256(f"{command}{password}{salt}{ts}".encode()).digest()
    return base64.b64encode(digest).decode()[:8]
