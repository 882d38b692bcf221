"""The service's closed sets of words, each derived from the layer that owns it, so a cloud added to the
catalog or a scope added to the tokens is accepted everywhere at once (the request bodies, the query
parameters, `imagevet push`) instead of in the one place someone remembered.

Light on purpose (the shared model's constants only): `imagevet push` and the CLI's
option help import it without the service's extra."""

from __future__ import annotations

import re
from collections.abc import Iterable

from imagevet.model import CLOUDS as PUBLIC_CLOUDS
from imagevet.model import Severity

PLAIN = re.compile(r"[a-z0-9][a-z0-9_-]*")

ONPREM = "onprem"  # an image of one's own (a data centre, a laptop): no cloud, no publisher to verify
CLOUDS = (*PUBLIC_CLOUDS, ONPREM)  # where an inventoried image lives: the clouds the catalog knows, or none
SCOPES = ("read", "write", "admin")  # API token scopes, each including the ones before it
UNKNOWN_SEVERITY = "unknown"  # an advisory that rates nothing
# Every severity a finding may carry, lowest first: the checks' own (model.Severity) below an unrated one.
FINDING_SEVERITIES = (UNKNOWN_SEVERITY, *(s.value for s in Severity))


def one_of(words: Iterable[str]) -> str:
    """A regular expression matching exactly one of ``words`` (for pydantic and query parameters), written
    as a person would (``^(open|rebuilding)$``): it is shown in the OpenAPI document. Words are plain."""
    items = list(words)
    for word in items:
        if not PLAIN.fullmatch(word):
            raise ValueError(f"{word!r} is not a plain word")
    return f"^({'|'.join(items)})$"


def listed(words: Iterable[str], last: str = "or") -> str:
    """``a, b, c or d``: the words as help and messages name them."""
    items = list(words)
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} {last} {items[-1]}"
