"""Live hosts over SSH against a real sshd on 127.0.0.1, and fleets from inventories."""

from __future__ import annotations

import json
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from imagevet.errors import TargetError
from imagevet.fleet import parse_inventory
from imagevet.target import open_target
from imagevet.target.ssh import SshOptions, parse_ssh_spec
from tests.conftest import AS_OF_DATE
from tests.support.cli import imagevet_env, run_imagevet
from tests.support.sshd_server import SshServer, free_port, running_sshd, start_sshd

pytestmark = pytest.mark.real


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SshServer]:
    with running_sshd(tmp_path_factory.mktemp("sshd")) as running:
        yield running


def options(server: SshServer, **overrides: object) -> SshOptions:
    values: dict[str, object] = {
        "identity": str(server.client_key),
        "known_hosts": str(server.known_hosts),
        "timeout": 10.0,
    }
    values.update(overrides)
    return SshOptions(**values)  # type: ignore[arg-type]


def run(*args: str) -> subprocess.CompletedProcess[str]:
    """The CLI with this environment as it is (and NO_COLOR); a fleet of thirteen hosts may take minutes."""
    return run_imagevet(*args, env=imagevet_env(drop=()), timeout=300)


def test_ssh_audit_matches_the_local_audit(server: SshServer) -> None:
    common = ["--as-of", AS_OF_DATE, "-f", "json", "--fail-on", "never"]
    remote = run(
        "audit",
        server.spec,
        "--identity",
        str(server.client_key),
        "--known-hosts",
        str(server.known_hosts),
        *common,
    )
    assert remote.returncode == 0, remote.stderr
    local = run("audit", "/", *common)
    remote_doc, local_doc = json.loads(remote.stdout), json.loads(local.stdout)
    assert remote_doc["target"]["kind"] == "ssh"
    assert [(r["check"], r["status"]) for r in remote_doc["results"]] == [
        (r["check"], r["status"]) for r in local_doc["results"]
    ]


def test_files_and_live_values_over_sftp(server: SshServer) -> None:
    target = open_target(server.spec, options(server))
    try:
        assert target.is_live_host
        assert target.read_text("/etc/hostname") == Path("/etc/hostname").read_text()
        assert target.read_text("/proc/sys/vm/swappiness") == Path("/proc/sys/vm/swappiness").read_text()
        assert "sshd_config" in target.list_dir("/etc/ssh")  # type: ignore[operator]
    finally:
        target.close()


def test_live_pending_updates_from_the_package_manager(server: SshServer) -> None:
    """Over SSH (no advisory database), updates-pending-security asks the host's apt, like apt itself."""
    import subprocess as sp

    from imagevet.facts.pending import APT_COMMAND, parse_apt_simulation

    expected = parse_apt_simulation(sp.run(APT_COMMAND, shell=True, capture_output=True, text=True).stdout)
    proc = run(
        "audit",
        server.spec,
        "--identity",
        str(server.client_key),
        "--known-hosts",
        str(server.known_hosts),
        "--checks",
        "updates-pending-security",
        "-f",
        "json",
        "--fail-on",
        "never",
    )
    result = json.loads(proc.stdout)["results"][0]
    assert result["status"] == ("fail" if expected else "pass"), result
    if expected:
        assert result["evidence"][0]["detail"].startswith(expected[0].package)


def test_sudo_reads_what_sftp_may_not(tmp_path: Path) -> None:
    """An sshd whose SFTP refuses every open: without --sudo files are unreadable, with it sudo -n reads."""
    import shutil

    if shutil.which("sudo") is None:
        pytest.skip("sudo is not installed")
    restricted = start_sshd(tmp_path / "sshd", sftp="internal-sftp -P open")
    try:
        plain = open_target(restricted.spec, options(restricted))
        try:
            unreadable = plain.read_text("/etc/os-release")
            assert not isinstance(unreadable, str) and "--sudo" in unreadable.reason
        finally:
            plain.close()
        with_sudo = open_target(restricted.spec, options(restricted, sudo=True))
        try:
            assert with_sudo.read_text("/etc/os-release") == Path("/etc/os-release").read_text()
        finally:
            with_sudo.close()
    finally:
        restricted.stop()


def test_wrong_host_key_is_refused(server: SshServer) -> None:
    with pytest.raises(TargetError, match="host key not verified"):
        open_target(server.spec, options(server, known_hosts=str(server.wrong_known_hosts)))


def test_wrong_client_key_is_refused(server: SshServer, tmp_path: Path) -> None:
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(tmp_path / "k")], check=True)
    with pytest.raises(TargetError, match="authentication failed"):
        open_target(server.spec, options(server, identity=str(tmp_path / "k")))


def test_dead_and_silent_hosts_fail_fast() -> None:
    dead = f"ssh://root@127.0.0.1:{free_port()}"
    start = time.monotonic()
    with pytest.raises(TargetError, match="cannot connect"):
        open_target(dead, SshOptions(timeout=3))
    # A host that accepts the connection but never speaks: the timeout ends it.
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(1)
    port = silent.getsockname()[1]
    threading.Thread(target=lambda: silent.accept(), daemon=True).start()
    with pytest.raises(TargetError):
        open_target(f"ssh://root@127.0.0.1:{port}", SshOptions(timeout=2))
    silent.close()
    assert time.monotonic() - start < 15


def test_ssh_config_alias_is_honoured(
    server: SshServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "home"
    (home / ".ssh").mkdir(parents=True)
    (home / ".ssh/config").write_text(
        f"Host audited-box\n  HostName 127.0.0.1\n  Port {server.port}\n  User root\n"
        f"  IdentityFile {server.client_key}\n  UserKnownHostsFile {server.known_hosts}\n"
    )
    monkeypatch.setenv("HOME", str(home))
    target = open_target("ssh://audited-box", SshOptions(timeout=10))
    try:
        assert target.exists("/etc/os-release")
    finally:
        target.close()


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("ssh://h", (None, "h", None)),
        ("ssh://u@h:2222", ("u", "h", 2222)),
        ("ssh://u@[::1]:22", ("u", "::1", 22)),
    ],
)
def test_parse_spec(spec: str, expected: tuple[object, ...]) -> None:
    parsed = parse_ssh_spec(spec)
    assert (parsed.user, parsed.host, parsed.port) == expected
    with pytest.raises(TargetError):
        parse_ssh_spec("ssh://u@h:99999")


def test_inventory_formats() -> None:
    plain = parse_inventory("# hosts\nssh://root@10.0.0.1\nweb1\n", "hosts.txt")
    assert [h.spec for h in plain] == ["ssh://root@10.0.0.1", "ssh://web1"]
    ini = parse_inventory(
        "[web]\nweb1 ansible_host=10.0.0.5 ansible_port=2222\nweb2\n[web:vars]\nansible_user=deploy\n",
        "inv.ini",
    )
    assert [h.spec for h in ini] == ["ssh://deploy@10.0.0.5:2222", "ssh://deploy@web2"]
    yaml_inventory = parse_inventory(
        "all:\n  vars: {ansible_user: ops}\n  children:\n    db:\n      hosts:\n"
        "        db1: {ansible_host: 10.0.0.9}\n",
        "inv.yaml",
    )
    assert [h.spec for h in yaml_inventory] == ["ssh://ops@10.0.0.9"]


def test_fleet_with_dead_and_untrusted_hosts(server: SshServer, tmp_path: Path) -> None:
    good = [f"ssh://root@127.0.0.1:{server.port}"] * 12
    inventory = tmp_path / "hosts.txt"
    inventory.write_text("\n".join([*good, f"ssh://root@127.0.0.1:{free_port()}"]) + "\n")
    out = tmp_path / "reports"
    proc = run(
        "audit",
        "--inventory",
        str(inventory),
        "--identity",
        str(server.client_key),
        "--known-hosts",
        str(server.known_hosts),
        "--timeout",
        "5",
        "--concurrency",
        "8",
        "--output-dir",
        str(out),
        "-f",
        "json",
        "--fail-on",
        "never",
        "--as-of",
        AS_OF_DATE,
    )
    assert proc.returncode == 2, proc.stderr  # one host could not be audited
    document = json.loads(proc.stdout)
    assert document["summary"] == {"hosts": 13, "audited": 12, "errors": 1, "failing_gate": 0}
    assert sum(1 for host in document["hosts"] if host["status"] == "error") == 1
    assert len(list(out.glob("*.json"))) == 1  # the twelve good hosts share one name: one file, rewritten
    assert json.loads(next(out.glob("*.json")).read_text())["schema"] == "imagevet/audit/v1"
