"""sshd_config's grammar as OpenSSH's servconf.c reads it: splitting a line into keyword and arguments,
time intervals, algorithm lists, Match criteria, and each keyword's value as ``sshd -T`` prints it. Pure
functions over text; the tables they consult are sshd_keywords.py."""

from __future__ import annotations

import fnmatch
import re

from imagevet.facts.sshd_keywords import (
    ALGORITHMS,
    FLAG,
    FLAG_VALUES,
    INT,
    LOGLEVEL,
    LOGLEVELS,
    MODELED,
    ROOTLOGIN,
    ROOTLOGIN_VALUES,
    SUPPORTED,
    TIME,
    WORDS,
)

_KEYWORD = re.compile(r"([^\s=]+)\s*(?:=\s*)?(.*)$")
_GAPS = re.compile(r"[ \t\r\n]+")  # argv_split's separators, and only those
_TIME_PART = re.compile(r"(\d+)([smhdwSMHDW]?)")
_TIME_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def split_args(text: str) -> list[str] | None:
    """Split arguments like OpenSSH's argv_split: quotes group, backslash escapes, ``#`` ends the line.

    Returns None for an unterminated quote (sshd: "invalid quotes").
    """
    if '"' not in text and "'" not in text and "\\" not in text and "#" not in text:
        # Nothing to group, escape or end: the common line, split in C (a 40,000-line file in 0.1 s).
        stripped = text.strip(" \t\r\n")
        return _GAPS.split(stripped) if stripped else []
    args: list[str] = []
    i, n = 0, len(text)
    while i < n:
        while i < n and text[i] in " \t\r\n":
            i += 1
        if i >= n:
            break
        if text[i] == "#":
            break
        current: list[str] = []
        quote: str | None = None
        while i < n:
            ch = text[i]
            if quote is None and ch in " \t\r\n":
                break
            if ch == "\\" and i + 1 < n and text[i + 1] in "\\\"' \t":
                current.append(text[i + 1])
                i += 2
                continue
            if ch in "\"'":
                if quote is None:
                    quote = ch
                    i += 1
                    continue
                if quote == ch:
                    quote = None
                    i += 1
                    continue
            current.append(ch)
            i += 1
        if quote is not None:
            return None
        args.append("".join(current))
    return args


def split_keyword(line: str) -> tuple[str, str] | None:
    """Split a line into keyword and the rest, as OpenSSH's strdelim does (white space or one ``=``)."""
    stripped = line.strip(" \t\r\n\f")
    if not stripped or stripped.startswith("#"):
        return None
    match = _KEYWORD.match(stripped)
    if match is None:
        return None
    return match.group(1), match.group(2)


def convtime(text: str) -> int | None:
    """OpenSSH's convtime: ``90``, ``2m``, ``1h30m`` -> seconds; None when malformed."""
    if not text:
        return None
    total, pos = 0, 0
    for part in _TIME_PART.finditer(text):
        if part.start() != pos:
            return None
        total += int(part.group(1)) * _TIME_UNITS[part.group(2).lower()]
        pos = part.end()
    return total if pos == len(text) else None


def normalize(keyword: str, args: list[str]) -> str | None:
    """The value as ``sshd -T`` prints it, or None when sshd would reject it."""
    kind, default = MODELED.get(keyword, (WORDS, ""))
    # servconf.c: AcceptEnv takes names ("Invalid environment name" for an empty one or one with "="),
    # SetEnv takes NAME=VALUE pairs ("Invalid environment" without "=").
    if keyword == "acceptenv" and any(not a or "=" in a for a in args):
        return None
    if keyword == "setenv" and any("=" not in a for a in args):
        return None
    if keyword == "port":  # a2port: one decimal number from 1 to 65535 (strtonum)
        number = re.fullmatch(r"[ \t]*\+?(\d+)", args[0]) if len(args) == 1 else None
        return args[0] if number is not None and 0 < int(number.group(1)) <= 65535 else None
    if kind == WORDS:
        return " ".join(args)
    if kind == ALGORITHMS:
        if len(args) != 1:
            return None
        value = args[0]
        names = value[1:] if value[:1] in ("+", "^") else value
        if not value.startswith("-") and not all(n in SUPPORTED.get(keyword, ()) for n in names.split(",")):
            return None  # servconf.c: ciphers_valid / mac_valid / kex_names_valid
        return algorithm_list(value, default)
    if len(args) != 1:
        return None
    arg = args[0]
    if kind == FLAG:
        return FLAG_VALUES.get(arg.lower())
    if kind == ROOTLOGIN:
        return ROOTLOGIN_VALUES.get(arg.lower())
    if kind == LOGLEVEL:
        return LOGLEVELS.get(arg.upper())
    if kind == TIME:
        seconds = convtime(arg)
        return None if seconds is None else str(seconds)
    if kind == INT:
        return arg if re.fullmatch(r"-?\d+", arg) else None
    return arg


def algorithm_list(value: str, default: str) -> str:
    """OpenSSH's algorithm list syntax: ``+a,b`` appends to the default, ``-pat`` removes what matches the
    patterns, ``^a`` puts algorithms first; a plain list replaces the default."""
    base = default.split(",")
    if value.startswith("+"):
        extra = [a for a in value[1:].split(",") if a not in base]
        return ",".join(base + extra)
    if value.startswith("-"):
        patterns = value[1:].split(",")
        return ",".join(a for a in base if not any(fnmatch.fnmatchcase(a, p) for p in patterns))
    if value.startswith("^"):
        first = value[1:].split(",")
        return ",".join(first + [a for a in base if a not in first])
    return value


MATCH_CRITERIA = frozenset({"user", "group", "host", "address", "localaddress", "localport", "rdomain"})


def match_problem(args: list[str]) -> str | None:
    """What servconf.c's match_cfg_line refuses: an unknown criterion, one without its argument, or
    ``all`` combined with anything."""
    if not args:
        return "Match needs one or more criteria"
    if args[0].lower() == "all":
        return None if len(args) == 1 else "'all' cannot be combined with other Match criteria"
    for index in range(0, len(args), 2):
        criterion = args[index].lower()
        if criterion == "all":
            return "'all' cannot be combined with other Match criteria"
        if index + 1 >= len(args) or args[index + 1] == "":
            return "a Match criterion without its argument"
        if criterion not in MATCH_CRITERIA:
            return "an unsupported Match criterion"
    return None
