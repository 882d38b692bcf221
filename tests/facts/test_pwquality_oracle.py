"""facts/pwquality.py against libpwquality itself: the debootstrap root with libpam-pwquality from the
archive reads each configuration with its own library (pwquality_read_config through ctypes, in a chroot),
and the values it uses must be the ones imagevet judges. The configuration is bind-mounted over the root's
/etc/security in a private mount namespace, so the cached root is never written."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from imagevet.facts.pwquality import gather_pwquality
from imagevet.target import RootfsTarget
from tests.support.debian_root import ensure_debian_root

pytestmark = pytest.mark.real

# pwquality.h's PWQ_SETTING_* numbers of the settings the checks judge.
SETTINGS = {"difok": 1, "minlen": 3, "maxrepeat": 9, "maxsequence": 14, "dictcheck": 15, "enforcing": 17,
            "enforce_for_root": 19}  # fmt: skip
ORACLE = """
import ctypes
lib = ctypes.CDLL("libpwquality.so.1")
lib.pwquality_default_settings.restype = ctypes.c_void_p
pwq = ctypes.c_void_p(lib.pwquality_default_settings())
lib.pwquality_read_config(pwq, None, ctypes.byref(ctypes.c_char_p()))
value = ctypes.c_int()
for name, number in NUMBERS.items():
    lib.pwquality_get_int_value(pwq, number, ctypes.byref(value))
    print(name, value.value)
""".replace("NUMBERS", repr(SETTINGS))
CASES = [
    ({}, "difok = 3\nmaxrepeat = 2\n"),
    ({}, "Dictcheck = 0\nENFORCING 0\n   maxsequence=4   # trailing comment\n"),
    ({"10-a.conf": "difok = 7\n", "20-b.conf": "difok = 5\nenforce_for_root\n"}, "minlen = 15\n"),
    ({"00-site.conf": "minlenn = 14\n"}, "difok = 5\nmaxrepeat = 3\nenforce_for_root\n"),  # stops
    ({}, "difok = 4\ndictcheck = yes\nmaxrepeat = 2\n"),  # stops at the refused number
    ({}, "difok = = 4\n"),
    ({}, b"# caf\xe9\nmaxsequence = 2\n"),
    ({"a.conf": "enforce_for_root = 1\n"}, "# enforce_for_root\n"),
]


def _ours(root: Path) -> dict[str, int]:
    target = RootfsTarget(str(root))
    settings = gather_pwquality(target).settings
    found = {
        name: int(settings[name].value)
        for name in SETTINGS
        if name in settings and name != "enforce_for_root"
    }
    found["enforce_for_root"] = int("enforce_for_root" in settings)
    return found


@pytest.mark.skipif(shutil.which("unshare") is None, reason="needs unshare")
@pytest.mark.parametrize(("drop_ins", "main"), CASES)
def test_the_values_are_libpwqualitys(tmp_path: Path, drop_ins: dict[str, str], main: str | bytes) -> None:
    root = ensure_debian_root(("libpam-pwquality",))
    security = tmp_path / "security"
    (security / "pwquality.conf.d").mkdir(parents=True)
    for name, text in drop_ins.items():
        (security / "pwquality.conf.d" / name).write_text(text)
    (security / "pwquality.conf").write_bytes(main.encode() if isinstance(main, str) else main)
    (tmp_path / "oracle.py").write_text(ORACLE)
    script = (
        f"mount --bind {security} {root}/etc/security && mount --bind {tmp_path} {root}/mnt && "
        f"chroot {root} python3 /mnt/oracle.py"
    )
    proc = subprocess.run(["unshare", "-m", "sh", "-c", script], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    theirs = {name: int(value) for name, value in (line.split() for line in proc.stdout.splitlines())}
    view = tmp_path / "view"
    (view / "etc").mkdir(parents=True)
    shutil.copytree(security, view / "etc/security")
    assert _ours(view) == theirs
