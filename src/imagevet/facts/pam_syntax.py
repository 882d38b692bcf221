"""How libpam reads the text of a pam.d file (Linux-PAM 1.5, as Debian 12 and RHEL 9 ship it): lines,
tokens and bracketed controls. Each reader follows the C code's rules, including the ones a reader of the
manual would not guess (no separator needed between two actions, a 1023-byte line buffer), because a
gate that reads a stack more kindly than libpam passes stacks libpam lets everyone through. Where PAM
releases read a line differently, the line is flagged, never guessed. All linear in the text."""

from __future__ import annotations

import re

AMBIGUOUS = "?"  # the kind of a module line that libpam would not read as written (logical_lines)
LINE_BUFFER = 1024  # libpam 1.5's BUF_SIZE: fgets reads at most 1023 bytes of a line at a time


def _bytes(text: str) -> int:
    return len(text) if text.isascii() else len(text.encode("utf-8", "surrogateescape"))


def logical_lines(text: str) -> list[tuple[int, str, str | None]]:
    """The lines of a pam.d file as libpam assembles them: everything from the first ``#`` is a comment
    and ends the line; a line whose last character other than space or tab is a backslash goes on with
    the next line, the backslash read as a space (a carriage return is not white space to libpam, so
    ``\\`` before CR LF continues nothing). Each line keeps the number of its first physical line, and a
    problem where libpam would not read it as written: a continued line that runs into a blank or comment
    line (PAM 1.5 skips it, PAM 1.6 ends the line there), or a line of 1023 bytes or more (PAM 1.5 cuts
    it into pieces read as lines of their own, or stops reading the file)."""
    assembled: list[tuple[int, str, str | None]] = []
    parts: list[str] = []
    start, size = 0, 0
    for number, raw in enumerate(text.split("\n"), start=1):
        if _bytes(raw) >= LINE_BUFFER - 1:
            assembled.append((number, raw[:80], f"a line of {_bytes(raw)} bytes, which libpam 1.5 cuts up"))
            parts, size = [], 0
            continue
        content, hash_mark, _ = raw.partition("#")
        if not content.strip(" \t"):
            if parts:
                assembled.append(
                    (start, "".join(parts), "a continued line runs into a blank or comment line")
                )
                parts, size = [], 0
            continue
        if not parts:
            start = number
        stripped = content.rstrip(" \t")
        size += _bytes(content)
        if size >= LINE_BUFFER - 1:
            assembled.append((start, "".join(parts)[:80], "a continued line longer than libpam 1.5's buffer"))
            parts, size = [], 0
            continue
        if not hash_mark and stripped.endswith("\\"):
            parts.append(stripped[:-1] + " ")
            continue
        parts.append(content)
        assembled.append((start, "".join(parts), None))
        parts, size = [], 0
    if parts:
        assembled.append((start, "".join(parts), None))
    return [
        (number, line.strip(" \t"), problem)
        for number, line, problem in assembled
        if line.strip(" \t") or problem
    ]


# libpam's tokens (_pam_StrTok): split at space, tab and newline, except that a token starting with "["
# runs to the next "]" not escaped as "\]" (and may be followed by the next token with no space).
_TOKEN = re.compile(r"\[((?:\\\]|[^\]])*)(?:\]|$)|([^ \t\n]+)")


def tokens(line: str) -> list[tuple[str, bool]]:
    """(text, bracketed) for each token of a line: a bracketed one without its brackets."""
    found = []
    for match in _TOKEN.finditer(line):
        if match.group(2) is not None:
            found.append((match.group(2), False))
        else:
            found.append((match.group(1).replace("\\]", "]"), True))
    return found


# pam_tokens.h: the return values a bracketed control names, in libpam's order (it takes the first whose
# name the text starts with), "default" last; and the actions.
RETURN_VALUES = (
    "success", "open_err", "symbol_err", "service_err", "system_err", "buf_err", "perm_denied", "auth_err",
    "cred_insufficient", "authinfo_unavail", "user_unknown", "maxtries", "new_authtok_reqd", "acct_expired",
    "session_err", "cred_unavail", "cred_expired", "cred_err", "no_module_data", "conv_err", "authtok_err",
    "authtok_recover_err", "authtok_lock_busy", "authtok_disable_aging", "try_again", "ignore", "abort",
    "authtok_expired", "module_unknown", "bad_item", "conv_again", "incomplete", "default",
)  # fmt: skip
ACTIONS = ("ignore", "ok", "done", "bad", "die", "reset")
C_SPACE = " \t\n\v\f\r"  # isspace in the C locale
ALL_BAD = [("*", "bad")]  # what libpam makes of a control it cannot parse: every value's action is bad


def _prefix(text: str, at: int, names: tuple[str, ...]) -> str | None:
    return next((name for name in names if text.startswith(name, at)), None)


def control_actions(control: str) -> list[tuple[str, str]]:
    """The ``value=action`` pairs of a bracketed control as libpam's _pam_parse_control reads them:
    names matched as prefixes, case-sensitive, white space allowed around ``=`` and needed nowhere
    (``success=donedefault=ignore`` is two actions), a jump an ASCII number; on any parse error every
    value's action is ``bad`` (ALL_BAD). [] for a keyword control (pam.parse_stack keeps every other
    control bracketed, written with brackets or not, as libpam parses both alike)."""
    if not control.startswith("["):
        return []  # a keyword (required, sufficient ...)
    text = control[1:-1]
    at, found = 0, list[tuple[str, str]]()
    while True:
        while at < len(text) and text[at] in C_SPACE:
            at += 1
        if at >= len(text):
            return found
        value = _prefix(text, at, RETURN_VALUES)
        if value is None:
            return ALL_BAD
        at += len(value)
        while at < len(text) and text[at] in C_SPACE:
            at += 1
        if at >= len(text) or text[at] != "=":
            return ALL_BAD
        at += 1
        while at < len(text) and text[at] in C_SPACE:
            at += 1
        action = _prefix(text, at, ACTIONS)
        if action is not None:
            at += len(action)
        else:
            end = at
            while end < len(text) and text[end] in "0123456789":
                end += 1
            if end == at:
                return ALL_BAD
            action, at = _jump(text[at:end]), end
        if action:
            found.append((value, action))


# libpam keeps a jump in a C int: a number that wraps to -1..-5 is the action of that code.
_WRAPPED = {0: "ignore", -1: "ok", -2: "done", -3: "bad", -4: "die", -5: "reset"}


def _jump(digits: str) -> str | None:
    """What libpam makes of a jump number: itself, or, past 2**31, the int32 it wraps to (4294967291 is
    -5, reset); a wrapped number that is no action is none (None)."""
    number = int(digits) % 2**32
    if number < 2**31:
        return str(number) if number else "ignore"
    return _WRAPPED.get(number - 2**32)
