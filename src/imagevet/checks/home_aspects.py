"""One aspect each of the login accounts' homes and dot files, for the benchmarks that ask one thing per
recommendation (RHEL 9 and Amazon Linux 2023 6.2.10-6.2.16: the home exists, is the account's own, is
0750 or stricter; no .netrc, .forward or .rhosts; no dot file group- or world-writable). checks/homes.py
judges them together for the Debian family's 7.2.9 and 7.2.10; judged apart, one failing aspect does not
fail the other recommendations. Same facts (facts/homes.py), same rule: what cannot be read or does not
record modes is an error, never a pass."""

from __future__ import annotations

from collections.abc import Callable

from imagevet.checks.base import CheckOptions
from imagevet.checks.homes import MAX_HOME_MODE, _homes, _verdict
from imagevet.facts import Facts
from imagevet.facts.homes import DotFile, HomeDir
from imagevet.model import Evidence, Outcome, Unknown

WRITABLE_BY_OTHERS = 0o022

# What one aspect says of one home: failures and errors (evidence each), and the home is judged only when
# the aspect applies to it (an owner is not judged on a home that is not there).
Finding = tuple[list[Evidence], list[Evidence]]


def _each_home(facts: Facts, judge: Callable[[HomeDir], Finding], passed: str) -> Outcome:
    homes = _homes(facts)
    if isinstance(homes, Outcome):
        return homes
    failed: list[Evidence] = []
    errors: list[Evidence] = []
    for home in homes:
        more_failed, more_errors = judge(home)
        failed += more_failed
        errors += more_errors
    names = ", ".join(h.user.name for h in homes) or "none"
    return _verdict(failed, errors, Evidence(f"{passed} (accounts with a login shell: {names})"))


def _directory(home: HomeDir) -> tuple[int, int] | Evidence | None:
    """The home's (uid, mode) where it is a directory whose owner and mode are recorded; None where it is
    not there or not a directory (accounts-home-exists fails it); the error where it cannot be read."""
    node, path = home.node, home.user.home
    if node is None or (not isinstance(node, Unknown) and node.kind != "dir"):
        return None
    if isinstance(node, Unknown):
        return Evidence(f"{home.user.name}: home {path}: {node.reason}", path)
    if node.mode < 0:
        return Evidence(f"{home.user.name}: home {path}: this target does not record permissions", path)
    return node.uid, node.mode


def _exists(home: HomeDir) -> Finding:
    node, path, name = home.node, home.user.home, home.user.name
    if node is None:
        return [Evidence(f"{name}: home {path} does not exist", path)], []
    if isinstance(node, Unknown):
        return [], [Evidence(f"{name}: home {path}: {node.reason}", path)]
    if node.kind != "dir":
        return [Evidence(f"{name}: home {path} is not a directory", path)], []
    return [], []


def _on_directory(home: HomeDir, problem: Callable[[int, int], str | None]) -> Finding:
    """``problem(uid, mode)`` of a home that is a readable directory; nothing for one that is not there."""
    found = _directory(home)
    if found is None:
        return [], []
    if isinstance(found, Evidence):
        return [], [found]
    text = problem(*found)
    return ([Evidence(f"{home.user.name}: home {home.user.home} {text}", home.user.home)] if text else []), []


def _owned(home: HomeDir) -> Finding:
    uid_wanted = home.user.uid
    return _on_directory(
        home, lambda uid, _: f"is owned by uid {uid}, not {uid_wanted}" if uid != uid_wanted else None
    )


def _mode(home: HomeDir) -> Finding:
    def problem(_: int, mode: int) -> str | None:
        return f"is mode {mode:04o}, more than {MAX_HOME_MODE:04o}" if mode & ~MAX_HOME_MODE else None

    return _on_directory(home, problem)


def _dot_files(home: HomeDir) -> list[DotFile] | Evidence:
    if home.problem:
        return Evidence(f"{home.user.name}: {home.problem}", home.user.home)
    return list(home.dot_files)


def _none_named(name: str) -> Callable[[HomeDir], Finding]:
    def judge(home: HomeDir) -> Finding:
        dots = _dot_files(home)
        if isinstance(dots, Evidence):
            return [], [dots]
        path = f"{home.user.home.rstrip('/')}/{name}"
        return [Evidence(f"{home.user.name}: {name} exists", path) for dot in dots if dot.name == name], []

    return judge


def _not_writable(home: HomeDir) -> Finding:
    dots = _dot_files(home)
    if isinstance(dots, Evidence):
        return [], [dots]
    failed, errors = [], []
    for dot in dots:
        path = f"{home.user.home.rstrip('/')}/{dot.name}"
        node = dot.node
        if dot.is_link:  # CIS looks at regular files (find -type f); a link's target is judged where it is
            continue
        if isinstance(node, Unknown):
            errors.append(Evidence(f"{path}: {node.reason}", path))
        elif node.kind == "file" and node.mode < 0:
            errors.append(Evidence(f"{path}: this target does not record permissions", path))
        elif node.kind == "file" and node.mode & WRITABLE_BY_OTHERS:
            failed.append(
                Evidence(
                    f"{home.user.name}: {dot.name} is mode {node.mode:04o}: group or others can write it",
                    path,
                )
            )
    return failed, errors


def home_exists(facts: Facts, options: CheckOptions) -> Outcome:
    return _each_home(facts, _exists, "every home exists and is a directory")


def home_owned(facts: Facts, options: CheckOptions) -> Outcome:
    return _each_home(facts, _owned, "every home is its account's own")


def home_mode(facts: Facts, options: CheckOptions) -> Outcome:
    return _each_home(facts, _mode, f"every home is {MAX_HOME_MODE:04o} or stricter")


def no_netrc(facts: Facts, options: CheckOptions) -> Outcome:
    return _each_home(facts, _none_named(".netrc"), "no home has a .netrc")


def no_forward(facts: Facts, options: CheckOptions) -> Outcome:
    return _each_home(facts, _none_named(".forward"), "no home has a .forward")


def no_rhosts(facts: Facts, options: CheckOptions) -> Outcome:
    return _each_home(facts, _none_named(".rhosts"), "no home has a .rhosts")


def dot_files_not_writable(facts: Facts, options: CheckOptions) -> Outcome:
    return _each_home(facts, _not_writable, "no dot file is group- or world-writable")
