"""libpwquality's settings as the library reads them (pwquality.conf(5), libpwquality 1.4.5's
read_config_file): the pwquality.conf.d/*.conf files in name order, then pwquality.conf, a later value
winning. On each line a ``#`` starts a comment; the name runs to the first blank or ``=``, then blanks and
one ``=`` are skipped and the rest is the value. Names are matched without regard to case, as
pwquality_set_option does. A line the library refuses (an unknown name, a number setting without a number)
ends its reading there: what was read before it applies, nothing after it, and pam_pwquality carries on
with that (it only logs the error). The files are bytes to the library, so they are read as bytes."""

from __future__ import annotations

from dataclasses import dataclass

from imagevet.facts.pam import PWQUALITY_DEFAULTS, Setting
from imagevet.model import Unknown
from imagevet.target.base import Target

MAIN = "/etc/security/pwquality.conf"
DROP_INS = "/etc/security/pwquality.conf.d/*.conf"
# The options of pwquality.conf(5) for libpwquality 1.4.5; the two flags take no value, the two paths text.
FLAGS = frozenset({"enforce_for_root", "local_users_only"})
TEXT = frozenset({"badwords", "dictpath"})
NUMBERS = frozenset(
    {
        "difok", "minlen", "dcredit", "ucredit", "lcredit", "ocredit", "minclass", "maxrepeat",
        "maxsequence", "maxclassrepeat", "gecoscheck", "dictcheck", "usercheck", "usersubstr",
        "enforcing", "retry",
    }
)  # fmt: skip


@dataclass(frozen=True)
class PwqualityConfig:
    settings: dict[str, Setting]  # lower-case name -> value, defaults included
    stopped: str | None = None  # where and why the library stopped reading
    unreadable: tuple[str, ...] = ()  # files there that could not be read, with why


def refusal(name: str, value: str) -> str | None:
    """Why pwquality_set_option refuses ``name`` = ``value``; None when it takes it."""
    if name in FLAGS or name in TEXT:
        return None
    if name not in NUMBERS:
        return f"{name!r} is not a libpwquality setting"
    digits = value[1:] if value[:1] in "+-" else value
    if not (digits.isascii() and digits.isdigit()):
        return f"{name} wants a number, not {value!r}"
    return None


def parse_line(raw: str) -> tuple[str, str] | None:
    """(lower-case name, value) of one line, or None for a blank or comment line."""
    line = raw.split("#", 1)[0].strip(" \t\r\n\v\f")
    if not line:
        return None
    end = next((i for i, char in enumerate(line) if char in " \t=\v\f"), len(line))
    name, rest = line[:end], line[end:].lstrip(" \t\v\f")
    if rest.startswith("="):
        rest = rest[1:].lstrip(" \t\v\f")
    return name.lower(), rest


def gather_pwquality(target: Target) -> PwqualityConfig:
    settings = {key: Setting(value, "default") for key, value in PWQUALITY_DEFAULTS.items()}
    unreadable = []
    for path in [*sorted(target.glob(DROP_INS)), MAIN]:
        if not target.exists(path):
            continue
        data = target.read_bytes(path)
        if isinstance(data, Unknown):
            unreadable.append(f"{path}: {data.reason}")
            continue
        for number, raw in enumerate(data.decode("latin-1").splitlines(), start=1):
            parsed = parse_line(raw)
            if parsed is None:
                continue
            name, value = parsed
            why = refusal(name, value)
            if why is not None:
                stop = f"libpwquality stops reading at {path}:{number} ({why}): no setting after it is used"
                return PwqualityConfig(settings, stop, tuple(unreadable))
            settings[name] = Setting(value, path, number)
    return PwqualityConfig(settings, None, tuple(unreadable))
