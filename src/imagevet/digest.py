"""The digest imagevet's own caches are keyed by (knowledge.py's entry names, cli/spec.py's check that the
command table matches the sources): BLAKE2b with a 32-byte digest.

It comes from CPython's built-in ``_blake2`` module where there is one, because ``import hashlib`` first
loads OpenSSL's bindings (``_hashlib``, 3.4 ms of every run's start-up), which nothing else an audit does
needs. The digest is the same either way: hashlib's blake2b is that same module's.
"""

from __future__ import annotations

try:
    from _blake2 import blake2b
except ImportError:  # a Python built without its own BLAKE2 modules
    from hashlib import blake2b

__all__ = ["cache_digest"]


def cache_digest(data: bytes = b"") -> blake2b:
    """A new digest, fed ``data``; ``update`` it with more, ``hexdigest()`` names the entry."""
    return blake2b(data, digest_size=32)
