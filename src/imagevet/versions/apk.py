"""Alpine (apk) version ordering and validation, as apk-tools defines them.

Gentoo-style versions: ``digits{.digits}[letter]{_suffix[digits]}[~hash][-r#]``. Pre-release suffixes
(``_alpha``, ``_beta``, ``_pre``, ``_rc``) sort before the plain version, post-release ones (``_cvs``,
``_svn``, ``_git``, ``_hg``, ``_p``) after it; a component after ``.`` that starts with 0 compares like a
decimal fraction (``0 < 001 < 0015 < 002``) and before plain numbers; ``~hash`` is a commit id; ``-rN`` is
the package revision. An invalid version still compares up to its first invalid component, as apk does.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator

from imagevet.errors import VersionError
from imagevet.versions.text import shown

# Token kinds, in the order apk ranks them when one version runs on after the other.
DIGIT_OR_ZERO, DIGIT, LETTER, SUFFIX, SUFFIX_NO, COMMIT, REVISION, END, INVALID = range(9)
PRE_SUFFIXES = ("alpha", "beta", "pre", "rc")
POST_SUFFIXES = ("cvs", "svn", "git", "hg", "p")
_HEX = set("0123456789abcdef")
_DIGITS = set("0123456789")
UINT64_MAX = 2**64 - 1

Token = tuple[int, object]


def _next_kind(previous: int, text: str, pos: int) -> tuple[int, int]:
    """The kind of the token starting at ``pos`` and where its value starts."""
    if pos >= len(text):
        return END, pos
    ch = text[pos]
    if previous in (DIGIT, DIGIT_OR_ZERO) and ch.islower() and ch.isascii():
        return LETTER, pos
    if previous == SUFFIX and ch in _DIGITS:
        kind, start = SUFFIX_NO, pos
    elif ch == ".":
        kind, start = DIGIT_OR_ZERO, pos + 1
    elif ch == "_":
        kind, start = SUFFIX, pos + 1
    elif ch == "~":
        kind, start = COMMIT, pos + 1
    elif ch == "-" and text[pos + 1 : pos + 2] == "r":
        kind, start = REVISION, pos + 2
    else:
        return INVALID, pos
    # Components only move forward (a suffix after a revision is invalid), with three allowed steps back.
    allowed_back = {(DIGIT, DIGIT_OR_ZERO), (SUFFIX_NO, SUFFIX)}
    if kind < previous and (previous, kind) not in allowed_back:
        return INVALID, pos
    if previous == COMMIT and kind != REVISION:
        return INVALID, pos
    if previous == REVISION:
        return INVALID, pos
    return kind, start


def _number(text: str, pos: int, leading_zero_is_fraction: bool) -> tuple[tuple[int, int | str], int] | None:
    """A digit run as a comparable value: a run after "." that starts with 0 compares as a string
    (like a decimal fraction: 0 < 001 < 0015 < 002), and sorts before every plain number.

    Only ASCII digits are digits (apk-tools uses C's isdigit). A number of 2**64 or more is None (an
    invalid component): apk-tools reads it into a uint64_t, so its real ordering is the wrapped value."""
    end = pos
    while end < len(text) and text[end] in _DIGITS:
        end += 1
    if end == pos:
        return None
    digits = text[pos:end]
    if leading_zero_is_fraction and digits.startswith("0"):
        return (0, digits), end
    significant = digits.lstrip("0")
    if len(significant) > 20 or int(significant or "0") > UINT64_MAX:
        return None  # apk keeps numbers in 64 bits and would compare this one wrapped around
    return (1, int(significant or "0")), end


def tokens(version: str) -> Iterator[Token]:
    """Yield (kind, value) tokens, ending with (END, 0) or (INVALID, 0)."""
    text = version
    if not text:
        yield INVALID, 0
        return
    kind, pos = DIGIT, 0
    while True:
        value: object
        if kind in (DIGIT, DIGIT_OR_ZERO, SUFFIX_NO, REVISION):
            number = _number(text, pos, kind == DIGIT_OR_ZERO)
            if number is None:
                yield INVALID, 0
                return
            value, end = number
            kind = DIGIT if kind == DIGIT_OR_ZERO else kind
        elif kind == LETTER:
            end = pos + 1
            value = ord(text[pos])
        elif kind == SUFFIX:
            name = next((s for s in PRE_SUFFIXES + POST_SUFFIXES if text.startswith(s, pos)), None)
            if name is None:
                yield INVALID, 0
                return
            end = pos + len(name)
            value = (
                PRE_SUFFIXES.index(name) - len(PRE_SUFFIXES)
                if name in PRE_SUFFIXES
                else POST_SUFFIXES.index(name)
            )
        elif kind == COMMIT:
            end = pos
            while end < len(text) and text[end] in _HEX:
                end += 1
            if end == pos:
                yield INVALID, 0
                return
            value = text[pos:end]
        else:
            yield INVALID, 0
            return
        yield kind, value
        kind, pos = _next_kind(kind, text, end)
        if kind in (END, INVALID):
            yield kind, 0
            return


@functools.lru_cache(maxsize=65536)
def token_list(version: str) -> tuple[Token, ...]:
    return tuple(tokens(version))


def is_valid_apk(version: str) -> bool:
    return token_list(version)[-1][0] == END


def compare_apk(a: str, b: str, *, fuzzy: bool = False) -> int:
    """-1, 0 or 1 as apk orders ``a`` and ``b``. With ``fuzzy``, 0 also when ``b`` is a prefix of ``a``."""
    ta, tb = token_list(a), token_list(b)
    index = 0
    while True:
        (ka, va), (kb, vb) = ta[index], tb[index]
        if ka != kb or ka in (END, INVALID):
            break
        if va != vb:
            return -1 if va < vb else 1  # type: ignore[operator]
        index += 1
    if ka == kb:
        return 0
    if fuzzy and kb == END:
        return 0
    # Equal so far: the longer version is newer, unless what follows is a pre-release suffix.
    if ka == SUFFIX and isinstance(va, int) and va < 0:
        return -1
    if kb == SUFFIX and isinstance(vb, int) and vb < 0:
        return 1
    return -1 if ka > kb else 1


def validate_apk(version: str) -> None:
    if not is_valid_apk(version):
        raise VersionError(f"invalid apk version {shown(version)}")
