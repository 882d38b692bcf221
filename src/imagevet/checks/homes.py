"""The home directories and dot files of the accounts that can log in (CIS 7.2.9 and 7.2.10 in the
Debian family's numbering): each home exists, is the account's own and 0750 or stricter; no .forward or
.rhosts (nor the host-wide /etc/hosts.equiv), .netrc and .bash_history 0600, the other dot files not
group- or world-writable, all owned by the account and its primary group. Reads facts/homes.py; what
cannot be read or does not record modes is an error, never a pass."""

from __future__ import annotations

from imagevet.checks.base import CheckOptions
from imagevet.facts import Facts
from imagevet.facts.homes import HomeDir
from imagevet.model import Evidence, Outcome, Status, Unknown

MAX_HOME_MODE = 0o750
MAX_DOT_MODE = 0o644
PRIVATE_DOT_FILES = {".netrc": 0o600, ".bash_history": 0o600}
FORBIDDEN_DOT_FILES = (".forward", ".rhosts")  # mail forwarding to programs, rsh trust
HOSTS_EQUIV = "/etc/hosts.equiv"


def _verdict(failed: list[Evidence], errors: list[Evidence], passed: Evidence) -> Outcome:
    if errors:
        return Outcome(Status.ERROR, tuple(errors + failed))
    if failed:
        return Outcome(Status.FAIL, tuple(failed))
    return Outcome.of(Status.PASS, passed)


def _homes(facts: Facts) -> tuple[HomeDir, ...] | Outcome:
    homes = facts.login_homes
    if isinstance(homes, Unknown):
        return Outcome.of(Status.ERROR, homes.reason)
    return homes


def home_dirs(facts: Facts, options: CheckOptions) -> Outcome:
    homes = _homes(facts)
    if isinstance(homes, Outcome):
        return homes
    failed: list[Evidence] = []
    errors: list[Evidence] = []
    for home in homes:
        user, node, path = home.user, home.node, home.user.home
        if node is None:
            failed.append(Evidence(f"{user.name}: home {path} does not exist", path))
        elif isinstance(node, Unknown):
            errors.append(Evidence(f"{user.name}: home {path}: {node.reason}", path))
        elif node.kind != "dir":
            failed.append(Evidence(f"{user.name}: home {path} is not a directory", path))
        elif node.mode < 0:
            errors.append(Evidence(f"{user.name}: home {path}: this target does not record permissions"))
        else:
            problems = []
            if node.uid != user.uid:
                problems.append(f"owned by uid {node.uid}, not {user.name} ({user.uid})")
            if node.mode & ~MAX_HOME_MODE:
                problems.append(f"mode {node.mode:04o} allows more than {MAX_HOME_MODE:04o}")
            if problems:
                failed.append(Evidence(f"{user.name}: home {path}: {'; '.join(problems)}", path))
    names = ", ".join(h.user.name for h in homes) or "none"
    return _verdict(
        failed, errors, Evidence(f"homes of the accounts with a login shell ({names}) are theirs, 0750")
    )


def _dot_file_problems(home: HomeDir) -> tuple[list[Evidence], list[Evidence]]:
    failed: list[Evidence] = []
    errors: list[Evidence] = []
    user, base = home.user, home.user.home.rstrip("/")
    for dot in home.dot_files:
        path = f"{base}/{dot.name}"
        if dot.name in FORBIDDEN_DOT_FILES:
            failed.append(Evidence(f"{user.name}: {dot.name} exists", path))
            continue
        if dot.is_link:  # CIS looks at regular files (find -type f); a link's target is judged where it is
            continue
        node = dot.node
        if isinstance(node, Unknown):
            errors.append(Evidence(f"{path}: {node.reason}", path))
            continue
        if node.kind != "file":
            continue
        if node.mode < 0:
            errors.append(Evidence(f"{path}: this target does not record permissions", path))
            continue
        limit = PRIVATE_DOT_FILES.get(dot.name, MAX_DOT_MODE)
        problems = []
        if node.mode & ~limit:
            problems.append(f"mode {node.mode:04o} allows more than {limit:04o}")
        if node.uid != user.uid:
            problems.append(f"owned by uid {node.uid}, not {user.name}")
        if node.gid != user.gid:
            problems.append(f"group gid {node.gid}, not {user.name}'s primary group ({user.gid})")
        if problems:
            failed.append(Evidence(f"{user.name}: {dot.name}: {'; '.join(problems)}", path))
    return failed, errors


def dot_files(facts: Facts, options: CheckOptions) -> Outcome:
    homes = _homes(facts)
    if isinstance(homes, Outcome):
        return homes
    failed: list[Evidence] = []
    errors: list[Evidence] = []
    if facts.hosts_equiv:
        failed.append(Evidence(f"{HOSTS_EQUIV} exists: rsh trusts the hosts it lists", HOSTS_EQUIV))
    for home in homes:
        if home.problem:
            errors.append(Evidence(f"{home.user.name}: {home.problem}", home.user.home))
            continue
        more_failed, more_errors = _dot_file_problems(home)
        failed += more_failed
        errors += more_errors
    count = sum(len(h.dot_files) for h in homes)
    return _verdict(
        failed, errors, Evidence(f"{count} dot file(s) in the login accounts' homes, all in order")
    )
