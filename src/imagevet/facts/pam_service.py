"""The stack of one PAM service (``/etc/pam.d/<service>``) of one type, as Linux-PAM builds it.

A check that asks "does every caller go through module X" has to see the stack libpam runs, not the
lines of one file: ``type include FILE`` and Debian's ``@include FILE`` put the included file's lines in
place (so a jump counts them), ``type substack FILE`` runs them as a unit whose ``done`` ends only the
substack, and a service without a file of its own gets ``/etc/pam.d/other`` (pam.d(5)). An included file
the image lacks becomes a line that always fails (libpam's must-fail handler), which no caller gets past;
a file that is there but cannot be read is Unknown, never an empty stack.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass

from imagevet.facts.pam import AMBIGUOUS, ModuleLine, parse_stack
from imagevet.model import Unknown
from imagevet.target.base import Target

PAM_D = "/etc/pam.d"
OTHER = "/etc/pam.d/other"
MAX_INCLUDE_DEPTH = 8  # libpam gives up on deeper nesting (and on loops) well before this
MISSING_FILE = "(missing file)"  # the module of a must-fail line put where an include names no file


@dataclass(frozen=True)
class ServiceStack:
    """The lines of one type of a service's stack, includes followed; ``source`` is the file libpam
    read for the service (its own, or /etc/pam.d/other)."""

    source: str
    lines: tuple[ModuleLine, ...]


def _included(name: str) -> str:
    return posixpath.normpath(name if name.startswith("/") else posixpath.join(PAM_D, name))


def _expand(target: Target, path: str, kind: str, depth: int) -> list[ModuleLine] | Unknown:
    text = target.read_text(path)
    if isinstance(text, Unknown):
        return Unknown(f"{path}: {text.reason}")
    found: list[ModuleLine] = []
    for line in parse_stack(text, path):
        if line.kind == AMBIGUOUS:
            return Unknown(
                f"{path}:{line.line}: a continued line runs into a blank or comment line, which PAM 1.5 "
                "skips and PAM 1.6 ends the line at: not judged"
            )
        if line.kind not in (kind, "@include"):
            continue
        if line.control == "substack" or (line.kind == kind and line.control != "include"):
            found.append(line)
            continue
        included = _included(line.module)
        if depth >= MAX_INCLUDE_DEPTH:
            return Unknown(f"{path}:{line.line}: includes nest deeper than {MAX_INCLUDE_DEPTH} files")
        if not target.exists(included):
            found.append(ModuleLine(kind, MISSING_FILE, (included,), path, line.line, "required"))
            continue
        inner = _expand(target, included, kind, depth + 1)
        if isinstance(inner, Unknown):
            return inner
        found += inner
    return found


def service_stack(target: Target, service: str, kind: str) -> ServiceStack | Unknown | None:
    """The ``kind`` lines (auth, account, password, session) of the service's stack; None when the image
    has no /etc/pam.d at all (the program does not use Linux-PAM)."""
    if not target.is_dir(PAM_D):
        return None
    own = f"{PAM_D}/{service}"
    source = own if target.exists(own) else OTHER
    if not target.exists(source):
        return Unknown(f"no {own} and no {OTHER}: which stack libpam would run is not judged")
    lines = _expand(target, source, kind, 0)
    if isinstance(lines, Unknown):
        return lines
    return ServiceStack(source, tuple(lines))


def substack_files(stack: ServiceStack) -> tuple[str, ...]:
    """The files the stack's substack lines run, for a check that has to say it did not look inside."""
    return tuple(_included(line.module) for line in stack.lines if line.control == "substack")
