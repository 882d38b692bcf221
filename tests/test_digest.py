"""imagevet/digest.py: the caches' digest is BLAKE2b-256 whichever module gives it (the built-in _blake2,
else hashlib's), so a cache written by one Python build is read by another."""

from __future__ import annotations

import hashlib

from imagevet.digest import cache_digest


def test_the_digest_is_blake2b_of_32_bytes_fed_in_parts() -> None:
    digest = cache_digest(b"knowledge\0")
    digest.update(b"text")
    assert digest.hexdigest() == hashlib.blake2b(b"knowledge\0text", digest_size=32).hexdigest()
    assert len(cache_digest().digest()) == 32
