"""Request bodies as the service accepts them: JSON, parsed within bounds so that no body, however
hostile, reaches a route, the database or a page in a shape that could fail later.

Refused, each with one line that names the problem and never quotes the body:
- bytes that are not UTF-8, and text that is not JSON;
- nesting deeper than MAX_DEPTH (the service's documents are five levels deep; deeper bodies only cost
  stack, and PostgreSQL and the page renderer would have to walk them again);
- NaN and infinities (``NaN``, ``1e999``): JSON has no such numbers, PostgreSQL's ``json`` refuses them
  and a response holding one cannot be encoded;
- integers beyond 64 bits: no document field needs one, and other readers (PostgreSQL, JavaScript)
  cannot hold them exactly;
- NUL characters and lone UTF-16 surrogates in any string or key: PostgreSQL refuses the first, and the
  second cannot be encoded as UTF-8 on the way out, so a stored one would break every page showing it.

Pure functions: the request guard (service/limits.py) calls ``parse`` once per body, after
authentication, and the routes use the value it returns."""

from __future__ import annotations

import json
import re
from typing import Any

from imagevet.errors import ImagevetError

MAX_DEPTH = 32
MAX_INT = 2**63 - 1
_SURROGATE = re.compile("[\ud800-\udfff]")
_BAD_TEXT = re.compile("[\x00\ud800-\udfff]")


class PayloadError(ImagevetError):
    """A body the service refuses before any route sees it; ``status`` is the HTTP status to answer."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def _no_constant(name: str) -> Any:
    raise PayloadError("numbers must be finite (NaN and Infinity are not JSON)")


def _finite(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise PayloadError("a number is too large to be finite")
    return value


def _bounded_int(text: str) -> int:
    if len(text.lstrip("-")) > 19 or abs(int(text)) > MAX_INT:
        raise PayloadError("an integer is beyond 64 bits")
    return int(text)


def parse(body: bytes) -> Any:
    """The JSON value of ``body``; PayloadError (400) when it is not one the service takes."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise PayloadError(f"the body is not UTF-8 (byte {exc.start})") from None
    if "\x00" in text:
        raise PayloadError("NUL characters are not accepted")
    try:
        value = json.loads(text, parse_constant=_no_constant, parse_float=_finite, parse_int=_bounded_int)
    except RecursionError:
        raise PayloadError(f"the body is nested deeper than {MAX_DEPTH} levels") from None
    except json.JSONDecodeError as exc:
        raise PayloadError(
            f"the body is not JSON ({exc.msg}, line {exc.lineno} column {exc.colno})"
        ) from None
    check(value)
    return value


def check(value: Any) -> None:
    """Depth, strings and numbers of an already parsed value (iterative: no recursion to exhaust)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, str):
            _check_text(item)
        elif isinstance(item, bool) or item is None:
            continue
        elif isinstance(item, int):
            if abs(item) > MAX_INT:
                raise PayloadError("an integer is beyond 64 bits")
        elif isinstance(item, float):
            if item != item or item in (float("inf"), float("-inf")):
                raise PayloadError("numbers must be finite (NaN and Infinity are not JSON)")
        elif isinstance(item, (dict, list)):
            if depth > MAX_DEPTH:
                raise PayloadError(f"the body is nested deeper than {MAX_DEPTH} levels")
            if isinstance(item, dict):
                for key, member in item.items():
                    if not isinstance(key, str):
                        raise PayloadError("object keys must be strings")
                    _check_text(key)
                    stack.append((member, depth + 1))
            else:
                stack.extend((member, depth + 1) for member in item)
        else:
            raise PayloadError(f"a value of type {type(item).__name__} is not JSON")


def _check_text(text: str) -> None:
    found = _BAD_TEXT.search(text)
    if found is None:
        return
    if found.group() == "\x00":
        raise PayloadError("NUL characters are not accepted")
    raise PayloadError("a string holds a lone UTF-16 surrogate (\\ud800-\\udfff), which is not text")


def cleaned(value: Any) -> Any:
    """``value`` with NUL characters and lone surrogates in its strings (and keys) replaced by U+FFFD.

    For documents the service makes itself from what it read (an audit job's reports): a file name that
    is not UTF-8 is the image's business, not a reason to fail the job or break its page later."""
    if isinstance(value, str):
        return _BAD_TEXT.sub("\ufffd", value)
    if isinstance(value, dict):
        return {_BAD_TEXT.sub("\ufffd", str(k)): cleaned(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [cleaned(v) for v in value]
    return value


def printable(text: str, width: int = 400) -> str:
    """One line of at most ``width`` characters: control characters and surrogates replaced."""
    line = text.strip().splitlines()[0] if text.strip() else ""
    line = re.sub("[\x00-\x1f\x7f-\x9f]", " ", _SURROGATE.sub("\ufffd", line))
    return line if len(line) <= width else line[: width - 1] + "…"
