"""The cryptography of Whatsminer write commands (docs/protocols.md §2.1 steps 2-7, §2.2).

API v2 derives an AES-256-ECB key and a per-token signature from the admin
password with md5-crypt (``$1$``), encrypts the NUL-padded JSON command and
base64-encodes it. API v3 signs each command with a truncated SHA-256.

md5-crypt is implemented here (it is ~40 lines, and passlib, the usual source,
is unmaintained and warns on import). AES comes from ``cryptography``.
Everything here is pure: bytes in, bytes out; nothing touches the network.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

__all__ = [
    "DecryptError",
    "V2Token",
    "aes_decrypt",
    "aes_encrypt",
    "md5_crypt",
    "v2_token",
    "v3_token",
]

_ITOA64 = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_MAGIC = b"$1$"
_BLOCK = 16
# md5-crypt spreads the final digest over 22 characters in this byte order.
_GROUPS = ((0, 6, 12), (1, 7, 13), (2, 8, 14), (3, 9, 15), (4, 10, 5))


class DecryptError(ValueError):
    """The ciphertext is not base64, not whole AES blocks, or not UTF-8 JSON text."""


def _to64(value: int, count: int) -> str:
    out = []
    for _ in range(count):
        out.append(_ITOA64[value & 0x3F])
        value >>= 6
    return "".join(out)


def md5_crypt(password: str, salt: str) -> str:
    """``$1$<salt>$<22 chars>``, as crypt(3) and passlib's md5_crypt compute it."""
    pw = password.encode()
    sl = salt.encode()[:8]
    alt = hashlib.md5(pw + sl + pw).digest()
    ctx = hashlib.md5(pw + _MAGIC + sl)
    for remaining in range(len(pw), 0, -_BLOCK):
        ctx.update(alt[: min(_BLOCK, remaining)])
    bits = len(pw)
    while bits:
        ctx.update(b"\x00" if bits & 1 else pw[:1])
        bits >>= 1
    final = ctx.digest()
    # 1000 rounds: the algorithm's deliberate cost, part of the result.
    for i in range(1000):
        step = hashlib.md5(pw if i & 1 else final)
        if i % 3:
            step.update(sl)
        if i % 7:
            step.update(pw)
        step.update(final if i & 1 else pw)
        final = step.digest()
    encoded = "".join(
        _to64((final[a] << 16) | (final[b] << 8) | final[c], 4) for a, b, c in _GROUPS
    )
    encoded += _to64(final[11], 2)
    return f"$1${sl.decode(errors='replace')}${encoded}"


def _crypt_field(password: str, salt: str) -> str:
    # Field 3 of "$1$salt$hash" split on "$" is the 22-character hash.
    return md5_crypt(password, salt).split("$")[3]


@dataclass(frozen=True, slots=True)
class V2Token:
    """A v2 write session: the signature sent in each command and the AES key."""

    sign: str
    aes_key: bytes

    def __repr__(self) -> str:  # keys never reach a log line
        return "V2Token(***)"


def v2_token(password: str, salt: str, newsalt: str, time_field: str) -> V2Token:
    """Steps 2-4 of §2.1, from ``get_token``'s ``salt``, ``newsalt`` and ``time``."""
    key = _crypt_field(password, salt)
    sign = _crypt_field(key + time_field, newsalt)
    return V2Token(sign=sign, aes_key=hashlib.sha256(key.encode()).digest())


def aes_encrypt(key: bytes, plaintext: bytes) -> str:
    """NUL-pad to whole blocks (not PKCS#7: the firmware strips NULs), encrypt, base64."""
    padded = plaintext + b"\x00" * (-len(plaintext) % _BLOCK)
    # ECB is what the firmware speaks; the protocol, not this code, chose it.
    encryptor = Cipher(algorithms.AES(key), modes.ECB()).encryptor()  # noqa: S305
    return base64.b64encode(encryptor.update(padded) + encryptor.finalize()).decode()


def aes_decrypt(key: bytes, data: str) -> str:
    """base64-decode, decrypt, strip the NUL padding; :class:`DecryptError` on any misfit."""
    try:
        raw = base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise DecryptError(f"not base64: {exc}") from None
    if not raw or len(raw) % _BLOCK:
        raise DecryptError(f"{len(raw)} bytes is not a whole number of AES blocks")
    decryptor = Cipher(algorithms.AES(key), modes.ECB()).decryptor()  # noqa: S305
    plain = (decryptor.update(raw) + decryptor.finalize()).rstrip(b"\x00")
    try:
        return plain.decode()
    except UnicodeDecodeError:
        raise DecryptError("decrypted bytes are not UTF-8 (wrong key?)") from None


def v3_token(command: str, password: str, salt: str, ts: int) -> str:
    """``base64(sha256(cmd + password + salt + str(ts)))[:8]`` (pyasic-as-client.md §4)."""
    digest = hashlib.sha256(f"{command}{password}{salt}{ts}".encode()).digest()
    return base64.b64encode(digest).decode()[:8]
