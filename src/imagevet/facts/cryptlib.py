"""The system's crypt(3) (libxcrypt), called directly.

Python's ``crypt`` module is deprecated and gone in 3.13; libxcrypt is on every Debian/Ubuntu/RHEL host
and knows every hash an image may carry (yescrypt, sha512crypt, sha256crypt, md5crypt, bcrypt, DES).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools


@functools.cache
def _libcrypt() -> ctypes.CDLL | None:
    for name in ("libcrypt.so.1", "libcrypt.so.2", ctypes.util.find_library("crypt")):
        if not name:
            continue
        try:
            lib = ctypes.CDLL(name)
        except OSError:
            continue
        lib.crypt.restype = ctypes.c_char_p
        lib.crypt.argtypes = [ctypes.c_char_p, ctypes.c_char_p]
        return lib
    return None


def crypt_available() -> bool:
    return _libcrypt() is not None


def crypt_matches(password: str, hashed: str) -> bool | None:
    """Whether ``password`` hashes to ``hashed``; None when the hash method is unsupported here."""
    lib = _libcrypt()
    if lib is None:
        return None
    result: bytes | None = lib.crypt(password.encode(), hashed.encode())
    if result is None or result.startswith(b"*"):
        return None
    return bool(result.decode("ascii", "replace") == hashed)
