"""The CIS checks of what a login gets: su restricted to an empty group (CIS 5.2.7 in the Debian family's
numbering), a shell timeout (5.4.3.2), new accounts locked after their password expires (5.4.1.5), and no
valid login shell on system accounts (5.4.2.7), and every account without a valid login shell locked
(5.4.2.8). Each reads facts/logins.py; an unreadable file is an error, never a pass."""

from __future__ import annotations

from imagevet.checks.base import CheckOptions
from imagevet.facts import Facts
from imagevet.facts.account_db import AccountDatabase
from imagevet.facts.accounts import PASSWD, SHADOW
from imagevet.facts.logins import SHELLS, SU_STACK, USERADD_DEFAULTS, can_log_in
from imagevet.facts.pam import MUST_FAIL, ModuleLine
from imagevet.facts.pam_service import MISSING_FILE, substack_files
from imagevet.facts.pam_syntax import control_actions
from imagevet.model import Evidence, Outcome, Status, Unknown

MAX_TMOUT = 900  # CIS: TMOUT 900 seconds or less, readonly and exported
MAX_INACTIVE_DAYS = 45  # CIS: INACTIVE 45 days or less (and not -1, never)
# CIS 5.4.2.7's audit leaves these out; uid 65534 (nobody) counts as a system account whatever UID_MIN.
SHELL_ACCOUNTS = frozenset({"root", "halt", "sync", "shutdown", "nfsnobody"})
NOBODY_UID = 65534
DEFAULT_UID_MIN = 1000  # shadow's default when login.defs does not set UID_MIN
LOWEST_UID_MIN = 100  # below this (UID_MIN 0, say) every account would be a user: the check is not judged


def _bypasses(lines: tuple[ModuleLine, ...]) -> list[ModuleLine | None]:
    """For each line, the first line through which a caller would leave the auth stack with success
    without that line's failure counting (None: there is none). Before it: a ``sufficient`` module or a
    bracketed ``done`` or jump that lands past it (pam_rootok's success is root's alone, so only its other
    actions count: a ``default=1`` on it skips the next line for everyone else). After it: a ``reset``,
    which forgets its failure (pam.conf(5)). One pass each way, so linear in the stack."""
    reach, reacher = -1, None  # the farthest line an earlier line can skip past, and that line
    before: list[ModuleLine | None] = []
    for index, line in enumerate(lines):
        before.append(reacher if reach >= index else None)
        if line.control == "substack":
            continue
        # pam_rootok succeeds for root alone; a must-fail line (unknown type, no module, a missing
        # include) never succeeds: for both only the actions of their other results open the stack
        no_success = line.module in ("pam_rootok.so", MUST_FAIL, MISSING_FILE)
        far = len(lines) if line.control == "sufficient" and not no_success else -1
        for value, action in control_actions(line.control):
            if no_success and value == "success":
                continue
            if action == "done":
                far = len(lines)
            elif action.isascii() and action.isdigit():
                far = max(far, index + int(action))
        if far > reach:
            reach, reacher = far, line
    after: list[ModuleLine | None] = [None] * len(lines)
    reset: ModuleLine | None = None
    for index in range(len(lines) - 1, -1, -1):
        after[index] = reset
        line = lines[index]
        if line.control != "substack" and any(
            action == "reset" for _, action in control_actions(line.control)
        ):
            reset = line
    return [b or a for b, a in zip(before, after, strict=True)]


def _shown(line: ModuleLine) -> str:
    return f"auth {line.control} {line.module} {' '.join(line.arguments)}".strip()


def _wheel_problem(line: ModuleLine, groups: AccountDatabase) -> str | None:
    group = line.argument("group")
    if line.argument("deny") is not None:
        return "deny turns pam_wheel around: the members of the group are refused, everyone else admitted"
    if line.argument("root_only") is not None:
        return "root_only: su to every account but root stays open"
    if line.argument("use_uid") is None:
        return "without use_uid pam_wheel judges the login user, not the caller"
    if not group:
        return "no group=: pam_wheel then admits the members of wheel (or of gid 0)"
    entry = next((g for g in groups.groups if g.name == group), None)
    if entry is None:
        return f"group {group} is not in /etc/group"
    # pam_wheel asks getgrouplist, which goes by gid: every group with that gid counts, and every account
    # whose primary group it is
    members = [m for g in groups.groups if g.gid == entry.gid for m in g.members]
    primary = [u.name for u in groups.users if u.gid == entry.gid]
    if members or primary:
        return (
            f"group {group} (gid {entry.gid}) is not empty: {', '.join(dict.fromkeys((*members, *primary)))}"
        )
    return None


def su_restricted(facts: Facts, options: CheckOptions) -> Outcome:
    """pam_wheel required for su with use_uid and group=NAME, where NAME is a group nobody is in: then
    only root can su, and admins use sudo (which logs). Without group= pam_wheel admits wheel or gid 0.
    Judged on the stack libpam runs (includes followed, /etc/pam.d/other where su has no file), and only
    where no earlier line lets a caller out with success before pam_wheel is reached."""
    stack = facts.su_stack
    if stack is None:
        return Outcome.of(Status.SKIP, "no su in the image, or su does not use PAM (no /etc/pam.d)")
    if isinstance(stack, Unknown):
        return Outcome.of(Status.ERROR, stack.reason)
    lines = stack.lines
    wheels = [
        i
        for i, m in enumerate(lines)
        if m.module == "pam_wheel.so" and m.control in ("required", "requisite")
    ]
    source = (
        [] if stack.source == SU_STACK else [Evidence(f"no {SU_STACK}: libpam runs {stack.source} for su")]
    )
    if not wheels:
        substacks = substack_files(stack)
        if substacks:
            return Outcome.of(
                Status.ERROR,
                f"no pam_wheel in su's auth stack; its substacks ({', '.join(substacks)}) are not judged",
            )
        return Outcome(Status.FAIL, (*source, Evidence("no 'auth required pam_wheel.so' line", stack.source)))
    database = facts.account_database
    if isinstance(database, Unknown):
        return Outcome.of(Status.ERROR, database.reason)
    if database.problems:
        return Outcome(Status.ERROR, tuple(Evidence(problem) for problem in database.problems))
    evidence, ok = source, False
    bypasses = _bypasses(lines)
    for index in wheels:
        line = lines[index]
        problem = _wheel_problem(line, database)
        around = bypasses[index]
        if problem is None and around is not None:
            problem = f"{around.path}:{around.line} '{_shown(around)}' lets a caller through before it"
        evidence.append(
            Evidence(f"{_shown(line)}: {problem}" if problem else _shown(line), line.path, line.line)
        )
        ok = ok or problem is None
    return Outcome(Status.PASS if ok else Status.FAIL, tuple(evidence))


def _tmout_seconds(value: str | None) -> int | None:
    return int(value) if value and value.isascii() and value.isdigit() else None


def shell_timeout(facts: Facts, options: CheckOptions) -> Outcome:
    """TMOUT 1..900 in the system-wide profiles, readonly and exported when they are done, and never set
    higher. The statements are replayed in order (facts/shell_vars.py): a later unset or export -n undoes
    them, an assignment after readonly fails; one that depends on the run is an error, never a pass."""
    effects = facts.shell_timeout
    if isinstance(effects, Unknown):
        return Outcome.of(Status.ERROR, effects.reason)
    value: str | None = None
    readonly = exported = False
    evidence: list[Evidence] = []
    failed, undecided = False, []
    for effect in effects:
        where = (effect.path, effect.line)
        if effect.kind == "undecided":
            undecided.append(Evidence(effect.note, *where))
        elif effect.kind == "assign":
            seconds = _tmout_seconds(effect.value)
            good = seconds is not None and 0 < seconds <= MAX_TMOUT
            failed = failed or not good
            shown = repr(effect.value) if effect.value and not effect.value.isprintable() else effect.value
            note = "" if good else f": wanted 1..{MAX_TMOUT} seconds"
            if readonly:
                note += " (fails: TMOUT is already readonly)"
            else:
                value = effect.value
            evidence.append(Evidence(f"TMOUT={shown}{note}", *where))
        elif effect.kind == "readonly":
            readonly = True
        elif effect.kind == "export":
            exported = True
        elif effect.kind == "unexport":
            exported = False
            evidence.append(Evidence("TMOUT is exported no more (export -n / declare +x)", *where))
        elif effect.kind == "unset" and not readonly:
            value, exported = None, False
            evidence.append(Evidence("unset TMOUT", *where))
    if value is None and not undecided:
        failed = True
        evidence.append(
            Evidence("TMOUT is not set in /etc/profile, /etc/profile.d/*.sh or the system bashrc")
        )
    if value is not None and not readonly:
        failed = True
        evidence.append(Evidence("TMOUT is not readonly: a user can unset it"))
    if value is not None and not exported:
        failed = True
        evidence.append(Evidence("TMOUT is not exported: subshells do not time out"))
    if failed:
        return Outcome(Status.FAIL, tuple(evidence + undecided))
    if undecided:
        return Outcome(Status.ERROR, tuple(undecided + evidence))
    return Outcome(Status.PASS, tuple(evidence))


def password_inactive(facts: Facts, options: CheckOptions) -> Outcome:
    """useradd's INACTIVE for new accounts: 0..45 days after the password expires, the account locks."""
    defaults = facts.useradd_defaults
    if defaults is None:
        return Outcome.of(
            Status.FAIL, f"no {USERADD_DEFAULTS}: useradd's built-in INACTIVE is -1 (never locked)"
        )
    if isinstance(defaults, Unknown):
        return Outcome.of(Status.ERROR, defaults.reason)
    setting = defaults.get("INACTIVE")
    if setting is None:
        return Outcome.of(
            Status.FAIL, Evidence("INACTIVE is not set: useradd's default is -1 (never)", USERADD_DEFAULTS)
        )
    value = setting.value
    days = int(value) if value.isascii() and value.isdigit() else None
    good = days is not None and days <= MAX_INACTIVE_DAYS
    written = value if value.isprintable() and value.strip() == value else repr(value)
    why = "" if good else f": wanted 0..{MAX_INACTIVE_DAYS} days (useradd ignores what is not a plain number)"
    shown = f"INACTIVE={written}{why}"
    return Outcome.of(Status.PASS if good else Status.FAIL, Evidence(shown, setting.path, setting.line))


def _accounts_and_shells(facts: Facts) -> tuple[AccountDatabase, tuple[str, ...]] | Outcome:
    """passwd/group and /etc/shells, both read and sound, or the error outcome that says why not (the
    account database's problems, duplicates and malformed lines, included)."""
    database, shells = facts.account_database, facts.shells
    if isinstance(database, Unknown):
        return Outcome.of(Status.ERROR, database.reason)
    if isinstance(shells, Unknown):
        return Outcome.of(Status.ERROR, shells.reason)
    if database.problems:
        return Outcome(Status.ERROR, tuple(Evidence(problem) for problem in database.problems))
    return database, shells


def system_accounts_no_shell(facts: Facts, options: CheckOptions) -> Outcome:
    """Accounts below UID_MIN (and nobody) get no program at login but nologin or false (facts/logins.
    can_log_in with any_program: a python or a link to bash counts, listed in /etc/shells or not)."""
    read = _accounts_and_shells(facts)
    if isinstance(read, Outcome):
        return read
    (database, shells), login_defs = read, facts.login_defs
    if isinstance(login_defs, Unknown):
        return Outcome.of(Status.ERROR, login_defs.reason)
    raw_min = login_defs.values.get("UID_MIN", (str(DEFAULT_UID_MIN), 0))[0]
    if not (raw_min.isascii() and raw_min.isdigit()):
        return Outcome.of(Status.ERROR, f"login.defs UID_MIN is not a number: {raw_min!r}")
    uid_min, programs = int(raw_min), facts.shell_programs
    if uid_min < LOWEST_UID_MIN:
        return Outcome.of(
            Status.ERROR,
            f"login.defs UID_MIN is {uid_min}: below {LOWEST_UID_MIN} no account counts as a system one",
        )
    found = [
        Evidence(
            f"{u.name} (uid {u.uid}) has the login shell {u.shell or '/bin/sh (empty field)'}", PASSWD, u.line
        )
        for u in database.users
        if u.name not in SHELL_ACCOUNTS
        and (u.uid < uid_min or u.uid == NOBODY_UID)
        and can_log_in(u.shell, shells, any_program=True, program=programs.get(u.shell))
    ]
    if found:
        return Outcome(Status.FAIL, tuple(found))
    return Outcome.of(
        Status.PASS,
        Evidence(f"no system account (uid < {uid_min}) gets a program at login but nologin or false", PASSWD),
    )


def _lock_state(password: str) -> str | None:
    """What passwd -S reports for a password field, as shadow's passwd reads it: a field that starts with
    ! or * is locked (None); an empty one is "NP" (no password), anything else "P" (usable)."""
    if password[:1] in ("!", "*"):
        return None
    return "empty: no password needed (NP)" if password == "" else "a usable password (P)"


def no_shell_accounts_locked(facts: Facts, options: CheckOptions) -> Outcome:
    """CIS 5.4.2.8: every account but root whose shell is not a valid login shell (one /etc/shells lists,
    nologin not counted) has a locked password, so that nothing that takes a password (su, a PAM
    service that does not look at the shell) lets it in. The password is the /etc/shadow entry's, or the
    passwd field where there is no entry, as passwd -S reads them; an empty shell field is /bin/sh."""
    read = _accounts_and_shells(facts)
    if isinstance(read, Outcome):
        return read
    (database, shells), shadow = read, facts.shadow
    if isinstance(shadow, Unknown):
        return Outcome.of(Status.ERROR, shadow.reason)
    valid = {shell for shell in shells if shell.rsplit("/", 1)[-1] != "nologin"}
    entries = {entry.name: entry for entry in reversed(shadow or ())}  # getspnam: the first entry wins
    found, judged = [], 0
    for user in database.users:
        shell = user.shell or "/bin/sh"
        if user.name == "root" or shell in valid:
            continue
        judged += 1
        entry = entries.get(user.name)
        state = _lock_state(entry.password if entry else user.password)
        if state is not None:
            where = "its /etc/shadow entry" if entry else "no /etc/shadow entry, and its passwd field"
            found.append(
                Evidence(
                    f"{user.name} (shell {shell}, not a valid login shell) is not locked: "
                    f"{where} has {state}",
                    SHADOW if entry else PASSWD,
                    entry.line if entry else user.line,
                )
            )
    if found:
        return Outcome(Status.FAIL, tuple(found))
    return Outcome.of(
        Status.PASS,
        Evidence(f"all {judged} accounts without a valid login shell ({SHELLS}) are locked", PASSWD),
    )
