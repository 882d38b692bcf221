"""Turn a package database's licence string into a valid SPDX expression, or NOASSERTION.

Debian and apk mostly record nothing or SPDX ids already; rpm uses Fedora's old short names
("GPLv2+", "BSD") that are not SPDX. We never guess: only what license-expression (the library that
cyclonedx-python-lib uses) validates against the SPDX list is kept; everything else is NOASSERTION, and
the raw string is kept beside it by the caller.
"""

from __future__ import annotations

import functools
from typing import Any


@functools.cache
def _licensing() -> Any:
    try:
        from license_expression import get_spdx_licensing
    except ImportError:
        return None
    return get_spdx_licensing()


@functools.lru_cache(maxsize=4096)
def spdx_expression(raw: str) -> str:
    if not raw or not raw.strip():
        return "NOASSERTION"
    licensing = _licensing()
    if licensing is None:
        return "NOASSERTION"
    info = licensing.validate(raw.strip())
    if info.errors or info.invalid_symbols:
        return "NOASSERTION"
    return str(info.normalized_expression)
