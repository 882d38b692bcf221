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

from imagevet.facts.pam import ANY_TYPE, MUST_FAIL, ModuleLine, parse_stack
from imagevet.facts.pam_syntax import AMBIGUOUS
from imagevet.model import Unknown
from imagevet.target.base import Target

PAM_D = "/etc/pam.d"
OTHER = "/etc/pam.d/other"
MAX_INCLUDE_DEPTH = 8  # libpam gives up on deeper nesting (and on loops) well before this
MAX_STACK_LINES = 10_000  # a real stack has tens of lines; more is a crafted file, judged as an error
MISSING_FILE = "(missing file)"  # the module of a must-fail line put where an include names no file


@dataclass(frozen=True)
class ServiceStack:
    """The lines of one type of a service's stack, includes followed; ``source`` is the file libpam
    read for the service (its own, or /etc/pam.d/other)."""

    source: str
    lines: tuple[ModuleLine, ...]


def _included(name: str) -> str:
    return posixpath.normpath(name if name.startswith("/") else posixpath.join(PAM_D, name))


class _Expander:
    """Follows the includes of one service's stack: each file read and parsed once (a stack that includes
    common-auth a thousand times costs one read), a file that includes itself, directly or not, and a
    stack of more than MAX_STACK_LINES lines are Unknown, never a partial stack."""

    def __init__(self, target: Target, kind: str) -> None:
        self.target, self.kind = target, kind
        self.parsed: dict[str, list[ModuleLine] | Unknown] = {}
        self.open: set[str] = set()

    def lines_of(self, path: str) -> list[ModuleLine] | Unknown:
        if path not in self.parsed:
            text = self.target.read_text(path)
            self.parsed[path] = (
                Unknown(f"{path}: {text.reason}") if isinstance(text, Unknown) else parse_stack(text, path)
            )
        return self.parsed[path]

    def expand(self, path: str, depth: int) -> list[ModuleLine] | Unknown:
        lines = self.lines_of(path)
        if isinstance(lines, Unknown):
            return lines
        self.open.add(path)
        found: list[ModuleLine] = []
        for line in lines:
            if line.kind == AMBIGUOUS:
                return Unknown(
                    f"{path}:{line.line}: {line.arguments[0]}: libpam would not read it as written"
                )
            if line.kind not in (self.kind, "@include", ANY_TYPE):
                continue
            if line.kind == ANY_TYPE or line.module == MUST_FAIL:
                found.append(line)  # libpam's must-fail handler: it fails, and its control still acts
            elif line.control == "substack" or (line.kind == self.kind and line.control != "include"):
                found.append(line)
            else:
                included = _included(line.module)
                if included in self.open or depth >= MAX_INCLUDE_DEPTH:
                    return Unknown(f"{path}:{line.line}: includes {included} again, or nests too deep")
                if not self.target.exists(included):
                    found.append(
                        ModuleLine(self.kind, MISSING_FILE, (included,), path, line.line, "required")
                    )
                else:
                    inner = self.expand(included, depth + 1)
                    if isinstance(inner, Unknown):
                        return inner
                    found += inner
            if len(found) > MAX_STACK_LINES:
                return Unknown(f"{path}: the stack runs to more than {MAX_STACK_LINES} lines: not judged")
        self.open.discard(path)
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
    lines = _Expander(target, kind).expand(source, 0)
    if isinstance(lines, Unknown):
        return lines
    return ServiceStack(source, tuple(lines))


def substack_files(stack: ServiceStack) -> tuple[str, ...]:
    """The files the stack's substack lines run, for a check that has to say it did not look inside."""
    return tuple(_included(line.module) for line in stack.lines if line.control == "substack")
