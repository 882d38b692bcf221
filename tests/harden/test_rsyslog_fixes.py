"""`imagevet harden` for logging-rsyslog-no-remote-input, applied for real in a chroot copy of the
debootstrap root with Debian 12's rsyslog installed from the archive (its own rsyslog.conf): the UDP
inputs rsyslog.conf's comments show how to turn on, and a TCP input and $ModLoad in rsyslog.d, are
commented out; the re-audit passes, rsyslogd itself (`rsyslogd -N1`, its configuration check) still
accepts the result, and a second run changes nothing. An input written across lines, and one in a file
that is a link, are left as they are and fail the fix by name (commenting a statement's lines apart
could leave rsyslogd a configuration it refuses)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from imagevet.model import Status
from tests.harden.test_harden import chroot, snapshot
from tests.harden.test_harden import harden_in_chroot as harden
from tests.harden.test_pam_history_fixes import audit, copy_of

pytestmark = pytest.mark.real
CHECK = "logging-rsyslog-no-remote-input"
REMOTE = 'module(load="imtcp" MaxSessions="200") # TCP\ninput(type="imtcp" port="514")\n$ModLoad imptcp\n'
ACROSS = 'module(load="imtcp"\n       MaxSessions="200")\n'


@pytest.fixture(scope="module")
def rsyslog_root(tmp_path_factory: pytest.TempPathFactory, debian_root: Path) -> Path:
    root = copy_of(debian_root, tmp_path_factory.mktemp("rsyslog") / "root")
    installed = chroot(
        root, "env", "DEBIAN_FRONTEND=noninteractive", "apt-get", "install", "-y", "-q", "rsyslog"
    )
    assert installed.returncode == 0, installed.stdout[-2000:] + installed.stderr[-2000:]
    return root


def listening_copy(rsyslog_root: Path, tmp_path: Path) -> Path:
    root = tmp_path / "root"
    subprocess.run(["cp", "-a", str(rsyslog_root), str(root)], check=True)
    conf = root / "etc/rsyslog.conf"
    text = conf.read_text()
    assert '#module(load="imudp")' in text  # Debian's, as shipped
    conf.write_text(text.replace('#module(load="imudp")', 'module(load="imudp")').replace(
        '#input(type="imudp" port="514")', 'input(type="imudp" port="514")'))  # fmt: skip
    (root / "etc/rsyslog.d/50-remote.conf").write_text(REMOTE)
    return root


def rsyslogd_accepts(root: Path) -> subprocess.CompletedProcess[str]:
    return chroot(root, "rsyslogd", "-N1", "-f", "/etc/rsyslog.conf")


def test_the_inputs_are_commented_out_and_rsyslogd_still_reads_the_result(
    rsyslog_root: Path, tmp_path: Path
) -> None:
    assert audit(rsyslog_root, [CHECK]) == [Status.PASS]  # Debian's own configuration listens nowhere
    root = listening_copy(rsyslog_root, tmp_path)
    assert audit(root, [CHECK]) == [Status.FAIL]
    assert rsyslogd_accepts(root).returncode == 0
    first = harden(root, [CHECK])
    assert first.returncode == 0, first.stdout + first.stderr
    assert audit(root, [CHECK]) == [Status.PASS]
    checked = rsyslogd_accepts(root)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert (root / "etc/rsyslog.d/50-remote.conf").read_text() == "".join(
        f"#{line}\n" for line in REMOTE.splitlines()
    )
    assert not list((root / "etc").rglob("*.imagevet-*"))
    settled = snapshot(root)
    assert harden(root, [CHECK]).returncode == 0
    assert snapshot(root) == settled


def test_an_input_written_across_lines_fails_the_fix_by_name(rsyslog_root: Path, tmp_path: Path) -> None:
    root = listening_copy(rsyslog_root, tmp_path)
    (root / "etc/rsyslog.d/60-across.conf").write_text(ACROSS)
    run = harden(root, [CHECK])
    assert run.returncode == 1 and "written across lines" in run.stderr, run.stdout + run.stderr
    assert (root / "etc/rsyslog.d/60-across.conf").read_text() == ACROSS
    assert audit(root, [CHECK]) == [Status.FAIL]


def test_an_input_in_a_linked_file_fails_the_fix_by_name(rsyslog_root: Path, tmp_path: Path) -> None:
    root = listening_copy(rsyslog_root, tmp_path)
    (root / "etc/rsyslog.d/50-remote.conf").rename(root / "etc/remote.conf")
    (root / "etc/rsyslog.d/50-remote.conf").symlink_to("/etc/remote.conf")
    run = harden(root, [CHECK])
    assert run.returncode == 1 and "a network input is left in the rsyslog" in run.stderr, (
        run.stdout + run.stderr
    )
    assert (root / "etc/remote.conf").read_text() == REMOTE and (
        root / "etc/rsyslog.d/50-remote.conf"
    ).is_symlink()
