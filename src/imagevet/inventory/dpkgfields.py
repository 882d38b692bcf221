"""dpkg's field parsers (lib/dpkg/fields.c, parsehelp.c, pkg-namevalue.c) for the status database.

Each function refuses a value exactly where dpkg 1.21 refuses it when reading ``/var/lib/dpkg/status``
(dpkg's "lax" status parser: what dpkg only warns about is accepted). Messages name the field and the
rule, never the value: the value comes from the image and may be hostile.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from imagevet.inventory.deb822 import SPACE

INT_MAX = 2**31 - 1
BLANK = " \t"  # c_isblank
WHITE = " \t\n\r"  # c_iswhite (scan_word)

WANT = ("unknown", "install", "hold", "deinstall", "purge")
EFLAG = ("ok", "reinstreq")
STATUS = (
    "not-installed",
    "config-files",
    "half-installed",
    "unpacked",
    "half-configured",
    "triggers-awaited",
    "triggers-pending",
    "installed",
)
NOT_INSTALLED, CONFIG_FILES, HALF_INSTALLED = 0, 1, 2
TRIGGERS_AWAITED, TRIGGERS_PENDING, INSTALLED = 5, 6, 7
BOOLEAN = ("no", "yes")
MULTIARCH = ("no", "same", "allowed", "foreign")
PRIORITY = ("required", "important", "standard", "optional", "extra")
_ALNUM = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
_DIGITS = frozenset("0123456789")


class FieldError(ValueError):
    """A field value dpkg refuses; the message names the field and the rule, not the value."""


@dataclass(frozen=True)
class Version:
    """A Debian version split as dpkg splits it: epoch, upstream version and revision."""

    epoch: int
    upstream: str
    revision: str

    def describe(self) -> str:
        """dpkg's versiondescribe(vdew_nonambig): the epoch only when it is needed to read it back."""
        epoch = self.epoch or ":" in self.upstream or ":" in self.revision
        text = f"{self.epoch}:{self.upstream}" if epoch else self.upstream
        return f"{text}-{self.revision}" if self.revision else text


def c_string(value: str) -> str:
    """dpkg hands field values to its parsers as C strings: a NUL byte ends them."""
    return value.split("\0", 1)[0]


def name_value(
    value: str, names: tuple[str, ...], what: str, last: bool, fallback: bool = False
) -> tuple[int, str]:
    """dpkg's parse_nv: a case-insensitive *prefix* match against ``names``; returns (index, rest).

    Index -1 (with ``fallback``) when nothing matches. ``last``: nothing may follow the word.
    """
    if value == "":
        raise FieldError(f"{what} is missing a value")
    for index, name in enumerate(names):
        if value[: len(name)].lower() == name:
            rest = value[len(name) :].lstrip(SPACE)
            if last and rest:
                raise FieldError(f"{what} has trailing junk")
            return index, rest
    if not fallback:
        raise FieldError(f"{what} has a value dpkg does not know")
    return -1, ""


def parse_status(value: str) -> tuple[int, int, int]:
    """``want eflag status`` -> their indices in WANT, EFLAG, STATUS."""
    want, rest = name_value(value, WANT, "the first (want) word of Status", last=False)
    eflag, rest = name_value(rest, EFLAG, "the second (error) word of Status", last=False)
    status, _ = name_value(rest, STATUS, "the third (status) word of Status", last=True)
    return want, eflag, status


def _strtol(text: str) -> tuple[int | None, int]:
    """C strtol(text, &end, 10): (value or None when no digits, index where parsing stopped)."""
    i = 0
    while i < len(text) and text[i] in SPACE:
        i += 1
    sign = 1
    if i < len(text) and text[i] in "+-":
        sign = -1 if text[i] == "-" else 1
        i += 1
    start = i
    while i < len(text) and text[i] in _DIGITS:
        i += 1
    if i == start:
        return None, 0
    return sign * int(text[start:i]), i


def parse_version(value: str, what: str = "Version") -> Version:
    """dpkg's parseversion; only its errors refuse (its warnings, e.g. a letter first, are accepted)."""
    text = value.lstrip(BLANK)
    if text == "":
        raise FieldError(f"{what} is empty")
    end = 0
    while end < len(text) and text[end] not in BLANK:
        end += 1
    if text[end:].lstrip(BLANK):
        raise FieldError(f"{what} has embedded spaces")
    text = text[:end]
    epoch = 0
    colon = text.find(":")
    if colon >= 0:
        number, stop = _strtol(text)
        if number is None:
            raise FieldError(f"{what}: the epoch is empty")
        if stop != colon:
            raise FieldError(f"{what}: the epoch is not a number")
        if number < 0:
            raise FieldError(f"{what}: the epoch is negative")
        if number > INT_MAX:
            raise FieldError(f"{what}: the epoch is too big")
        if colon + 1 == len(text):
            raise FieldError(f"{what}: nothing after the epoch's colon")
        epoch, text = number, text[colon + 1 :]
    upstream, hyphen, revision = text.rpartition("-")
    if not hyphen:
        upstream, revision = text, ""
    elif revision == "":
        raise FieldError(f"{what}: the revision is empty")
    if upstream == "":
        raise FieldError(f"{what}: the upstream version is empty")
    return Version(epoch, upstream, revision)


def package_name_problem(name: str) -> str | None:
    """dpkg's pkg_name_is_illegal."""
    if name == "":
        return "is empty"
    if name[0] not in _ALNUM:
        return "does not start with a letter or digit"
    if any(ch not in _ALNUM and ch not in "-+._" for ch in name):
        return "has a character other than letters, digits and '-+._'"
    return None


def arch_problem(arch: str) -> str | None:
    """dpkg's dpkg_arch_name_is_illegal."""
    if arch == "":
        return "is empty"
    if arch[0] not in _ALNUM:
        return "does not start with a letter or digit"
    if any(ch not in _ALNUM and ch != "-" for ch in arch):
        return "has a character other than letters, digits and '-'"
    return None


def check_package(value: str) -> str:
    problem = package_name_problem(value)
    if problem:
        raise FieldError(f"the Package name {problem}")
    return value.lower()  # dpkg's pkg_db_find_set folds names to lower case


def _skip(text: str, p: int) -> int:
    while p < len(text) and text[p] in SPACE:
        p += 1
    return p


NO_ALTERNATIVES = frozenset({"conflicts", "breaks", "provides", "replaces"})


def _plain_dependencies() -> re.Pattern[str]:
    """The plainly well-formed dependency fields, as one regular expression: every value it matches
    (and, in a field without alternatives, that has no ``|``), dpkg's rules (``check_dependency_rules``)
    accept too, since each part is a strict subset of what they allow (a name, an architecture, an
    operator, a version with at most a 1-9 digit epoch and no colon after it, a revision after the last
    hyphen, blanks only where dpkg skips them); a value it does not match is judged by those rules.
    Nearly every field of a real status file is such a value, and one match is a tenth of walking it
    character by character (tests/inventory/test_dpkgfields.py). The reference is written once, with
    ``,`` and ``|`` alike between references: compiling the expression is paid at every start."""
    version = r"(?:[0-9]{1,9}:)?[A-Za-z0-9.+~]+(?:-[A-Za-z0-9.+~]+)*"
    # One run of blanks where the operator may be missing: two \s* side by side would let a failing
    # match try every split of a long run between them (quadratic: 16,000 blanks took 10 s).
    relation = rf"\(\s*(?:(?:<<|<=|>=|>>|<|>|=)\s*)?{version}\s*\)\s*"
    reference = rf"[A-Za-z0-9][A-Za-z0-9+._-]*(?::[A-Za-z0-9][A-Za-z0-9-]*)?\s*(?:{relation})?"
    return re.compile(rf"{reference}(?:[,|]\s*{reference})*", re.ASCII)  # ASCII: \s is c_isspace


_PLAIN_DEPENDENCIES = _plain_dependencies()


def plainly_well_formed(value: str, field: str) -> bool:
    """``value`` is a dependency field the expression accepts for ``field`` (see _plain_dependencies)."""
    if _PLAIN_DEPENDENCIES.fullmatch(value) is None:
        return False
    return "|" not in value or field.lower() not in NO_ALTERNATIVES


def check_dependency(value: str, field: str) -> None:
    """dpkg's f_dependency: ``name[:arch] [(op version)]``, ``|`` alternatives, ``,`` separated."""
    if not plainly_well_formed(value, field):
        check_dependency_rules(value, field)


def check_dependency_rules(value: str, field: str) -> None:
    """dpkg's rules for a dependency field, walked as its parser walks them: FieldError where it
    refuses the value."""
    text, n, p = value, len(value), 0
    if text == "":
        return
    while True:
        while True:
            start = p
            while p < n and text[p] not in SPACE and text[p] not in ":(,|":
                p += 1
            if p == start:
                raise FieldError(f"{field}: a package name is missing (or garbage where one is expected)")
            problem = package_name_problem(text[start:p])
            if problem:
                raise FieldError(f"{field}: a package name {problem}")
            if p < n and text[p] == ":":
                p += 1
                arch_start = p
                while p < n and text[p] not in SPACE and text[p] not in "(,|":
                    p += 1
                if p == arch_start:
                    raise FieldError(f"{field}: an architecture qualifier is empty")
                problem = arch_problem(text[arch_start:p])
                if problem:
                    raise FieldError(f"{field}: an architecture qualifier {problem}")
            p = _skip(text, p)
            if p < n and text[p] == "(":
                p = _relation(text, _skip(text, p + 1), field)
            if p >= n or text[p] == ",":
                break
            if text[p] != "|":
                raise FieldError(f"{field}: syntax error after a package reference")
            if field.lower() in NO_ALTERNATIVES:
                raise FieldError(f"{field}: alternatives ('|') are not allowed")
            p = _skip(text, p + 1)
        if p >= n:
            return
        p = _skip(text, p + 1)


def _relation(text: str, p: int, field: str) -> int:
    """The ``op version)`` part of a dependency, ``p`` just after ``(`` and its spaces; returns the index
    after ``)`` and the spaces that follow."""
    n = len(text)
    c1 = text[p] if p < n else ""
    if c1 in ("<", ">"):
        p += 1
        c2 = text[p] if p < n else ""
        if c2 == "=" or c2 == c1:
            p += 1
        elif c2 in ("<", ">"):
            raise FieldError(f"{field}: a bad version relation")
    elif c1 == "=":
        p += 1
    p = _skip(text, p)
    start = p
    while p < n and text[p] not in ")(" and text[p] not in SPACE:
        p += 1
    version = text[start:p]
    p = _skip(text, p)
    if p < n and text[p] == "(":
        raise FieldError(f"{field}: a version contains '('")
    if p >= n:
        raise FieldError(f"{field}: a version relation is not terminated")
    if text[p] != ")":
        raise FieldError(f"{field}: a version contains white space")
    parse_version(version, f"{field}: a version")
    return _skip(text, p + 1)


def check_conffiles(value: str) -> None:
    """dpkg's f_conffiles: lines `` path hash [obsolete] [remove-on-upgrade]``."""
    text, n, i = value, len(value), 0
    while i < n:
        c = text[i]
        i += 1
        if c == "\n":
            continue
        if c != " ":
            raise FieldError("Conffiles: a line does not start with a space")
        end = text.find("\n", i)
        end = n if end < 0 else end
        word_start, name_end = _last_word(text, i, end, end)
        word_end = end
        for flag in ("remove-on-upgrade", "obsolete"):  # dpkg strips them from the end in this order
            if text[word_start:word_end] == flag:
                word_end = name_end
                word_start, name_end = _last_word(text, i, name_end, end)
        name_start = i
        while name_start < name_end and (
            text[name_start] == "/" or text[name_start : name_start + 2] == "./"
        ):
            name_start += 1 if text[name_start] == "/" else 2
        if name_end - name_start <= 0:
            raise FieldError("Conffiles: the root or an empty directory is listed as a conffile")
        i = end


def _last_word(text: str, value: int, start_from: int, end: int) -> tuple[int, int]:
    """dpkg's conffvalue_lastword: (start of the last word before ``start_from``, index of its space).

    ``value`` is the index just after the line's leading space (so ``value - 1`` is a space)."""
    if start_from <= value + 1:
        raise FieldError("Conffiles: a malformed line")
    last_space = text.rfind(" ", value - 1, start_from)
    if last_space <= value + 1 or last_space >= end - 1:
        raise FieldError("Conffiles: a malformed line")
    return last_space + 1, last_space


def check_trigger_names(value: str) -> list[str]:
    """dpkg's f_trigpend: white-space separated trigger names, printable ASCII, no duplicates."""
    words = _words(value)
    for word in words:
        if any(ord(ch) <= 32 or ord(ch) >= 127 for ch in word):
            raise FieldError("Triggers-Pending: a trigger name has an invalid character")
    if len(set(words)) != len(words):
        raise FieldError("Triggers-Pending: a trigger is listed twice")
    return words


def check_awaited(value: str) -> list[str]:
    """dpkg's f_trigaw: ``name[:arch]`` package specifiers, no duplicates."""
    words = _words(value)
    seen = set()
    for word in words:
        name, colon, arch = word.partition(":")
        problem = package_name_problem(name)
        if problem:
            raise FieldError(f"Triggers-Awaited: a package name {problem}")
        if colon:
            problem = arch_problem(arch)
            if problem:
                raise FieldError(f"Triggers-Awaited: an architecture {problem}")
        key = (name.lower(), arch)
        if key in seen:
            raise FieldError("Triggers-Awaited: a package is listed twice")
        seen.add(key)
    return words


def _words(value: str) -> list[str]:
    words: list[str] = []
    current: list[str] = []
    for ch in value:
        if ch in WHITE:
            if current:
                words.append("".join(current))
                current = []
        else:
            current.append(ch)
    if current:
        words.append("".join(current))
    return words
