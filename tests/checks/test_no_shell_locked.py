"""accounts-no-shell-locked (CIS 5.4.2.8): every account but root whose shell /etc/shells does not list
(nologin not counted) has a locked password. Lock states are read as passwd -S reads them, and the test
against the real passwd -S of the debootstrap root is the oracle; what cannot be read is an error."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from imagevet.audit import run_audit
from imagevet.checks.base import CheckOptions
from imagevet.model import CheckResult, Status
from imagevet.target import RootfsTarget
from tests.checks.support import AS_OF, statuses
from tests.checks.test_logins import root
from tests.facts.hostile import HOSTILE, plant

P, F, E = Status.PASS, Status.FAIL, Status.ERROR
CHECK = "accounts-no-shell-locked"
HASH = "$y$j9T$abcdefghijklmnop$0123456789012345678901234567890123456789012"


def result_of(image: Path) -> CheckResult:
    return run_audit(RootfsTarget(str(image)), CheckOptions(AS_OF), [CHECK]).results[0]


def judge(tmp_path: Path, passwd: str, shadow: str | None, shells: str | None = None) -> Status:
    files = {"etc/passwd": "root:x:0:0:root:/root:/bin/bash\n" + passwd, "etc/shadow": shadow}
    if shells is not None:
        files["etc/shells"] = shells
    return statuses(root(tmp_path, files), [CHECK])[CHECK]


@pytest.mark.parametrize(
    ("password", "expected"),
    [("*", P), ("!", P), ("!" + HASH, P), ("*LK*", P), ("!!", P), (HASH, F), ("", F), ("x", F)],
)
def test_a_nologin_account_must_be_locked(tmp_path: Path, password: str, expected: Status) -> None:
    passwd = "svc:x:998:998::/var/lib/svc:/usr/sbin/nologin\n"
    assert judge(tmp_path, passwd, f"root:*:20000:0:99999:7:::\nsvc:{password}:20000::::::\n") is expected


@pytest.mark.parametrize(
    ("shell", "expected"),
    [
        ("/bin/bash", P),  # listed: a login account, not judged here
        ("/bin/false", F),  # not listed
        ("/usr/sbin/nologin", F),  # listed in these shells, but nologin never counts
        ("/usr/bin/bash", F),  # the same program by another path, not listed
        ("", P),  # an empty field is /bin/sh, which is listed
    ],
)
def test_which_shells_are_valid(tmp_path: Path, shell: str, expected: Status) -> None:
    passwd = f"bob:x:1000:1000::/home/bob:{shell}\n"
    assert judge(tmp_path, passwd, f"bob:{HASH}:20000::::::\n") is expected


def test_root_is_left_out(tmp_path: Path) -> None:
    shadow = f"root:{HASH}:20000::::::\n"
    passwd = "daemon:x:1:1::/:/usr/sbin/nologin\n"
    files = {"etc/passwd": "root:x:0:0:root:/root:/usr/sbin/nologin\n" + passwd, "etc/shadow": shadow}
    files["etc/shadow"] += "daemon:*:20000::::::\n"
    assert statuses(root(tmp_path, files), [CHECK])[CHECK] is P


def test_without_a_shadow_entry_the_passwd_field_decides(tmp_path: Path) -> None:
    passwd = "legacy:*:1001:1001::/home/legacy:/usr/sbin/nologin\nauditor:x:1003:42::/:/usr/sbin/nologin\n"
    result = result_of(root(tmp_path, {"etc/passwd": passwd, "etc/shadow": "root:*:1::::::\n"}))
    assert result.status is F
    shown = [e.detail for e in result.evidence]
    assert shown == [
        "auditor (shell /usr/sbin/nologin, not a valid login shell) is not locked: no /etc/shadow entry, "
        "and its passwd field has a usable password (P)"
    ]


def test_the_first_shadow_entry_wins_and_no_hash_is_shown(tmp_path: Path) -> None:
    passwd = "svc:x:998:998::/:/usr/sbin/nologin\n"
    files = {"etc/passwd": "root:x:0:0::/root:/bin/bash\n" + passwd}
    files["etc/shadow"] = f"svc:{HASH}:1::::::\nsvc:*:1::::::\n"
    result = result_of(root(tmp_path, files))
    assert result.status is F and all(HASH not in e.detail for e in result.evidence)


@pytest.mark.parametrize("path", ["/etc/shadow", "/etc/shells", "/etc/passwd"])
@pytest.mark.parametrize("kind", HOSTILE)
def test_what_cannot_be_read_is_an_error(tmp_path: Path, path: str, kind: str) -> None:
    base = root(tmp_path, {"etc/shadow": "root:*:1::::::\n"})
    plant(base, path, kind)
    found = statuses(base, [CHECK])[CHECK]
    if kind == "link-outside":  # re-rooted to the image's own login.defs: read as such, never the host's
        assert found in (E, F)
    else:
        assert found is E


def test_no_shells_file_is_an_error(tmp_path: Path) -> None:
    base = root(tmp_path, {})
    (base / "etc/shells").unlink()
    assert statuses(base, [CHECK])[CHECK] is E


@pytest.mark.real
def test_lock_states_agree_with_passwd_dash_s(debian_root: Path, tmp_path: Path) -> None:
    """Each password field as the real passwd -S of Debian 12 (shadow 4.13) reports it: L is locked."""
    image = tmp_path / "root"
    # cp -a, not shutil.copytree, which reads the root's /dev/full as a file and fills the disk
    subprocess.run(["cp", "-a", str(debian_root), str(image)], check=True)
    fields = {"a": "*", "b": "!", "c": "!" + HASH, "d": HASH, "e": "", "f": "*LK*", "g": "!!", "h": "x"}
    with (image / "etc/passwd").open("a") as passwd:
        for name in fields:
            passwd.write(f"nl{name}:x:{2000 + ord(name)}:100::/:/usr/sbin/nologin\n")
    verdicts = set()
    for name, field in fields.items():
        others = "".join(f"nl{other}:*:20000:0:99999:7:::\n" for other in fields if other != name)
        shadow = (debian_root / "etc/shadow").read_text() + others + f"nl{name}:{field}:20000:0:99999:7:::\n"
        (image / "etc/shadow").write_text(shadow)
        report = subprocess.run(
            ["chroot", str(image), "passwd", "-S", f"nl{name}"], capture_output=True, text=True
        )
        locked = report.stdout.split()[1].startswith("L")
        verdicts.add(locked)
        assert statuses(image, [CHECK])[CHECK] is (P if locked else F), (name, report.stdout)
    assert verdicts == {True, False}  # both answers were seen
