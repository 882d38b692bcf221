"""The system's crypt(3) (libxcrypt), called directly.

Python's ``crypt`` module is deprecated and gone in 3.13; libxcrypt is on every Debian/Ubuntu/RHEL host
and knows every hash an image may carry (yescrypt, sha512crypt, sha256crypt, md5crypt, bcrypt, DES).

Calls go through the reentrant ``crypt_rn`` (libxcrypt) or ``crypt_r`` (glibc's old libcrypt) with one
``struct crypt_data`` per thread, so several guesses can hash at once: ctypes releases the GIL for the
length of a foreign call. Only where the library has neither is plain ``crypt`` (one static buffer)
used, behind a lock, and ``reentrant()`` says so, so callers stay serial.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import threading

# sizeof(struct crypt_data): 32768 in libxcrypt, 131232 in glibc's libcrypt; room for either.
_CRYPT_DATA_BYTES = 256 * 1024
_local = threading.local()
_plain_lock = threading.Lock()


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
        if hasattr(lib, "crypt_rn"):  # (phrase, setting, data, size): NULL on failure
            lib.crypt_rn.restype = ctypes.c_char_p
            lib.crypt_rn.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_void_p, ctypes.c_int]
        if hasattr(lib, "crypt_r"):  # (phrase, setting, data)
            lib.crypt_r.restype = ctypes.c_char_p
            lib.crypt_r.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_void_p]
        return lib
    return None


def crypt_available() -> bool:
    return _libcrypt() is not None


def reentrant() -> bool:
    """Whether crypt calls may run in several threads at once (crypt_rn or crypt_r exists)."""
    lib = _libcrypt()
    return lib is not None and (hasattr(lib, "crypt_rn") or hasattr(lib, "crypt_r"))


def _thread_data() -> ctypes.Array[ctypes.c_char]:
    """This thread's zeroed crypt_data (libxcrypt asks for zero before the first call, then reuses it)."""
    data: ctypes.Array[ctypes.c_char] | None = getattr(_local, "data", None)
    if data is None:
        data = _local.data = ctypes.create_string_buffer(_CRYPT_DATA_BYTES)
    return data


def _crypt(lib: ctypes.CDLL, phrase: bytes, setting: bytes) -> bytes | None:
    if hasattr(lib, "crypt_rn"):
        result: bytes | None = lib.crypt_rn(phrase, setting, _thread_data(), _CRYPT_DATA_BYTES)
        return result
    if hasattr(lib, "crypt_r"):
        result = lib.crypt_r(phrase, setting, _thread_data())
        return result
    with _plain_lock:  # one static buffer: copy the answer out before another call reuses it
        result = lib.crypt(phrase, setting)
        return None if result is None else bytes(result)


def crypt_matches(password: str, hashed: str) -> bool | None:
    """Whether ``password`` hashes to ``hashed``; None when the hash method is unsupported here.
    Safe to call from several threads at once."""
    lib = _libcrypt()
    if lib is None:
        return None
    result = _crypt(lib, password.encode(), hashed.encode())
    if result is None or result.startswith(b"*"):
        return None
    return bool(result.decode("ascii", "replace") == hashed)


# ---- what one crypt(3) call may cost, read from the hash's own parameters ----------------------------
# A shadow file chooses its hashes' cost: sha512crypt rounds up to 999999999, bcrypt cost 31, yescrypt
# N up to 2^63. One such hash would make a default-password check run for hours (or exhaust memory), so
# the cost of each call is estimated first, in milliseconds on a 2020s x86 core (measured: sha512crypt
# 5000 rounds 4 ms, bcrypt cost 10 58 ms, yescrypt j9T 20 ms, scrypt C6 36 ms).
ITOA64 = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def _itoa64(ch: str) -> int | None:
    index = ITOA64.find(ch)
    return index if index >= 0 and len(ch) == 1 else None


def _decode_uint(text: str) -> int | None:
    """yescrypt/scrypt little-endian base-64 integer (6 bits per character)."""
    value = 0
    for shift, ch in enumerate(text):
        digit = _itoa64(ch)
        if digit is None:
            return None
        value |= digit << (6 * shift)
    return value


def crypt_cost_ms(hashed: str) -> float | None:
    """Estimated milliseconds for one crypt(3) call with this hash as setting; None when the method's cost
    is not one imagevet can bound (unknown methods, unusual parameters)."""
    if not hashed.startswith("$"):
        return 0.05 if len(hashed) == 13 else None  # traditional DES (fixed cost)
    parts = hashed.split("$")
    method = parts[1] if len(parts) > 2 else ""
    if method == "1":
        return 0.2
    if method in ("5", "6"):
        rounds = 5000
        if len(parts) > 3 and parts[2].startswith("rounds="):
            digits = parts[2][len("rounds=") :]
            if not digits.isascii() or not digits.isdigit() or len(digits) > 10:
                return None
            rounds = max(1000, int(digits))
        return (1.6 if method == "5" else 4.2) * rounds / 5000
    if method in ("2a", "2b", "2y"):
        cost = parts[2] if len(parts) > 2 else ""
        if len(cost) != 2 or not cost.isascii() or not cost.isdigit():
            return None
        return 58.0 * 2.0 ** (int(cost) - 10)
    if method in ("y", "gy"):
        params = parts[2] if len(parts) > 2 else ""
        if len(params) != 3 or params[0] != "j":
            return None  # extra parameters (p, t, g, ROM) have costs we do not model
        n_log2, r = _itoa64(params[1]), _itoa64(params[2])
        if n_log2 is None or r is None:
            return None
        return 20.0 * 2.0 ** (n_log2 - 11) * (r + 1) / 32
    if method == "7":
        params = parts[2] if len(parts) > 2 else ""
        if len(params) < 11:
            return None
        n_log2, r, p = _itoa64(params[0]), _decode_uint(params[1:6]), _decode_uint(params[6:11])
        if n_log2 is None or r is None or p is None:
            return None
        return 36.0 * 2.0 ** (n_log2 - 14) * max(r, 1) / 8 * max(p, 1)
    return None


def crypt_memory_bytes(hashed: str) -> int | None:
    """Bytes one crypt(3) call with this hash as setting holds while it runs (yescrypt and scrypt fill
    128 * r * N bytes; the others need a few KiB), so parallel guesses can be bounded by memory as well
    as by cores. None where crypt_cost_ms gives None: such hashes are never tried."""
    if crypt_cost_ms(hashed) is None:
        return None
    parts = hashed.split("$")
    method = parts[1] if len(parts) > 2 else ""
    if method in ("y", "gy"):
        n_log2, r = _itoa64(parts[2][1]), _itoa64(parts[2][2])
        return None if n_log2 is None or r is None else 128 * (r + 1) * 2 ** (n_log2 + 1)
    if method == "7":
        n_log2, r = _itoa64(parts[2][0]), _decode_uint(parts[2][1:6])
        return None if n_log2 is None or r is None else 128 * max(r, 1) * 2**n_log2
    return 64 * 1024
