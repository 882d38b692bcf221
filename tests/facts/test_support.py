"""Paid extended support from the files the vendors' tools write (tests/fixtures/rootfs/*/HOW.md)."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from imagevet.facts.support import (
    ABSENT,
    ATTACHED,
    PRO_STATUS,
    UNDECIDED,
    gather_support,
    parse_auth_machines,
    parse_esm_sources,
    parse_pro_status,
)
from imagevet.model import Unknown
from imagevet.target import RootfsTarget
from tests.conftest import FIXTURES

ROOTFS = FIXTURES / "rootfs"
STATUS = "var/lib/ubuntu-advantage/status.json"


def support(root: Path, kind: str) -> tuple[str, str, dt.date | None]:
    found = gather_support(RootfsTarget(str(root))).of(kind)
    assert found is not None
    return found.state, found.reason, found.expires


def edit_status(root: Path, **changes: object) -> None:
    data = json.loads((root / STATUS).read_text())
    data.update(changes)
    (root / STATUS).write_text(json.dumps(data))


def test_pro_attached_with_esm_infra() -> None:
    state, reason, expires = support(ROOTFS / "ubuntu2004-pro", "esm")
    assert state == ATTACHED and expires == dt.date(2031, 3, 16)
    assert "esm-infra enabled" in reason and "ubuntu-esm-infra.list" in reason
    state, reason, _ = support(ROOTFS / "ubuntu2004-pro", "legacy")  # the add-on has a service of its own
    assert state == ABSENT and "esm-infra-legacy service is not listed" in reason


def test_legacy_add_on_with_its_service(copy_of: Callable[[str], Path]) -> None:
    root = copy_of("ubuntu2004-pro")
    data = json.loads((root / STATUS).read_text())
    data["services"].append({"name": "esm-infra-legacy", "status": "enabled", "entitled": "yes"})
    (root / STATUS).write_text(json.dumps(data))
    assert support(root, "legacy")[0] == ATTACHED


def test_no_pro_at_all(copy_of: Callable[[str], Path]) -> None:
    root = copy_of("ubuntu2004-pro")
    shutil.rmtree(root / "var/lib/ubuntu-advantage")
    for name in ("sources.list.d/ubuntu-esm-infra.list", "sources.list.d/ubuntu-esm-apps.list"):
        (root / "etc/apt" / name).unlink()
    (root / "etc/apt/auth.conf.d/90ubuntu-advantage").unlink()
    state, reason, _ = support(root, "esm")
    assert state == ABSENT and "not attached" in reason


def test_detached_status(copy_of: Callable[[str], Path]) -> None:
    root = copy_of("ubuntu2004-pro")
    edit_status(root, attached=False, expires=None, services=[])
    assert support(root, "esm")[:2] == (
        ABSENT,
        f"Ubuntu Pro is not attached ({PRO_STATUS}: attached is false)",
    )


def test_esm_infra_disabled(copy_of: Callable[[str], Path]) -> None:
    root = copy_of("ubuntu2004-pro")
    data = json.loads((root / STATUS).read_text())
    for service in data["services"]:
        if service["name"] == "esm-infra":
            service["status"] = "disabled"
    (root / STATUS).write_text(json.dumps(data))
    state, reason, _ = support(root, "esm")
    assert state == ABSENT and "esm-infra service is disabled" in reason


def test_expired_contract_is_recorded_for_the_check(copy_of: Callable[[str], Path]) -> None:
    root = copy_of("ubuntu2004-pro")
    edit_status(root, expires="2026-01-31T23:59:59+00:00")
    state, _, expires = support(root, "esm")
    assert state == ATTACHED and expires == dt.date(2026, 1, 31)  # the check compares it with --as-of


def test_sources_without_status_are_undecided(copy_of: Callable[[str], Path]) -> None:
    root = copy_of("ubuntu2004-pro")
    (root / STATUS).unlink()
    state, reason, _ = support(root, "esm")
    assert state == UNDECIDED and "no /var/lib/ubuntu-advantage/status.json" in reason


def test_status_without_apt_source_or_credentials(copy_of: Callable[[str], Path]) -> None:
    root = copy_of("ubuntu2004-pro")
    (root / "etc/apt/auth.conf.d/90ubuntu-advantage").write_text(
        "machine esm.ubuntu.com/apps/ubuntu/ login bearer password x  # ubuntu-pro-client\n"
    )
    state, reason, _ = support(root, "esm")
    assert state == ABSENT and "no entry for esm.ubuntu.com/infra" in reason
    (root / "etc/apt/sources.list.d/ubuntu-esm-infra.list").write_text(
        "# deb https://esm.ubuntu.com/infra/x\n"
    )
    state, reason, _ = support(root, "esm")
    assert state == ABSENT and "no enabled esm.ubuntu.com/infra apt source" in reason


def test_deb822_sources_as_noble_writes_them() -> None:
    text = (
        "Types: deb\nURIs: https://esm.ubuntu.com/infra/ubuntu\n"
        "Suites: noble-infra-security noble-infra-updates\n"
        "Components: main\nSigned-By: /usr/share/keyrings/ubuntu-pro-esm-infra.gpg\n\n"
        "Enabled: no\nTypes: deb\nURIs: https://esm.ubuntu.com/apps/ubuntu\nSuites: noble-apps-security\n"
    )
    found = parse_esm_sources(text, "/etc/apt/sources.list.d/ubuntu-esm-infra.sources")
    assert [s.uri for s in found] == ["esm.ubuntu.com/infra/ubuntu"]


def test_auth_file_keeps_machines_never_passwords() -> None:
    text = (ROOTFS / "ubuntu2004-pro/etc/apt/auth.conf.d/90ubuntu-advantage").read_text()
    machines = parse_auth_machines(text)
    assert machines == ["esm.ubuntu.com/apps/ubuntu", "esm.ubuntu.com/infra/ubuntu"]
    assert "FAKE-TOKEN" not in repr(gather_support(RootfsTarget(str(ROOTFS / "ubuntu2004-pro"))))


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ('{"attached": true, "services": [', "not valid JSON"),
        ("[]", "not a JSON object"),
        ('{"attached": "yes"}', "'attached' is str"),
        ('{"attached": true, "services": {"esm-infra": "enabled"}}', "'services' is dict"),
        ('{"attached": true, "services": ["esm-infra"]}', "a service entry is str"),
        ('{"attached": true, "services": [{"name": 1, "status": "enabled"}]}', "not text"),
        ('{"attached": true, "expires": 20310316}', "'expires' is int"),
        ('{"attached": true, "expires": "next year"}', "'expires' is not a date"),
        ("[" * 100_000 + "]" * 100_000, "not valid JSON"),
    ],
)
def test_wrong_json_is_unknown(text: str, problem: str) -> None:
    parsed = parse_pro_status(text)
    assert isinstance(parsed, Unknown) and problem in parsed.reason


def test_corrupt_status_json_is_undecided(copy_of: Callable[[str], Path]) -> None:
    root = copy_of("ubuntu2004-pro")
    (root / STATUS).write_text((root / STATUS).read_text()[:700])  # cut short, as a full disk leaves it
    state, reason, _ = support(root, "esm")
    assert state == UNDECIDED and "not valid JSON" in reason


def test_huge_status_json_is_refused_unread(copy_of: Callable[[str], Path]) -> None:
    root = copy_of("ubuntu2004-pro")
    with (root / STATUS).open("w") as handle:
        handle.write('{"attached": true, "padding": "')
        handle.write("x" * (2 * 1024 * 1024))
        handle.write('"}')
    state, reason, _ = support(root, "esm")
    assert state == UNDECIDED and "byte limit" in reason


def test_status_link_out_of_the_root_stays_inside(copy_of: Callable[[str], Path], tmp_path: Path) -> None:
    """An absolute link is re-rooted: it names the image's own file, never the host's."""
    outside = tmp_path / "host-status.json"
    outside.write_text((ROOTFS / "ubuntu2004-pro" / STATUS).read_text())
    root = copy_of("ubuntu2004-pro")
    (root / STATUS).unlink()
    (root / STATUS).symlink_to(outside)  # absolute: /tmp/.../host-status.json inside the image: absent
    state, reason, _ = support(root, "esm")
    assert state == UNDECIDED and "does not resolve inside the image" in reason
    (root / STATUS).unlink()
    (root / STATUS).symlink_to("../../../../../../../../" + str(outside).lstrip("/"))  # .. stops at the root
    assert support(root, "esm")[0] == UNDECIDED


def test_rhel_eus_repos_and_pinned_release(copy_of: Callable[[str], Path]) -> None:
    state, reason, _ = support(ROOTFS / "rhel9-eus", "eus")
    assert state == ATTACHED and "rhel-9-for-x86_64-baseos-eus-rpms" in reason and "pinned to 9.4" in reason
    root = copy_of("rhel9-eus")
    (root / "etc/dnf/vars/releasever").unlink()
    state, reason, _ = support(root, "eus")
    assert state == ABSENT and "not pinned" in reason
    (root / "etc/dnf/vars/releasever").write_text("9\n")
    assert support(root, "eus")[0] == ABSENT
    repo = root / "etc/yum.repos.d/redhat.repo"
    repo.write_text(repo.read_text().replace("enabled = 1", "enabled = 0"))
    state, reason, _ = support(root, "eus")
    assert state == ABSENT and "no EUS or E4S repository is enabled" in reason
    repo.write_text(repo.read_text().replace("enabled = 0", "enabled = maybe"))
    assert support(root, "eus")[0] == UNDECIDED


def test_suse_ltss_product_or_repository(copy_of: Callable[[str], Path]) -> None:
    state, reason, _ = support(ROOTFS / "sles15-ltss", "ltss")
    assert state == ATTACHED and "SLES-LTSS.prod" in reason
    root = copy_of("sles15-ltss")
    (root / "etc/products.d/SLES-LTSS.prod").unlink()
    state, reason, _ = support(root, "ltss")
    assert state == ATTACHED and "SLES15-SP3-LTSS-Updates" in reason and "IMAGEVETFAKETOKEN" not in reason
    (repo,) = (root / "etc/zypp/repos.d").iterdir()
    repo.write_text(repo.read_text().replace("enabled=1", "enabled=0"))
    assert support(root, "ltss")[0] == ABSENT
