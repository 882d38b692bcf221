"""Vendor lifecycle rules: releases the catalog does not list, judged by their vendor's own policy.

The rules are checked against the catalog itself (every listed release of a ruled distribution must
end inside its rule's window: the rule data and the release data cannot drift apart silently), then
used on real os-release files (../shared/data/os-release: Fedora 42, Alpine 3.23) and on os-release
files written the way the vendors write them for releases the catalog lacks (Ubuntu 25.10, 23.04 and
28.04: the Ubuntu 24.04 file with its version fields changed; ID=acme for a distribution no rule
covers).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
from dataclasses import replace
from pathlib import Path

import pytest

from imagevet.audit import run_audit
from imagevet.catalog.lifecycle import distro_id, judge_unlisted
from imagevet.catalog.loader import bundled_catalog, bundled_texts, parse_catalog
from imagevet.catalog.model import Catalog
from imagevet.catalog.rules import add_months
from imagevet.checks.base import CheckOptions
from imagevet.errors import DataError
from imagevet.model import OsRelease, Status
from imagevet.target import RootfsTarget
from tests.conftest import AS_OF_DATE, AS_OF_DAY
from tests.support.cli import run_imagevet

CHECKS = ["os-lts", "os-supported", "os-support-window"]
UBUNTU = """\
PRETTY_NAME="Ubuntu {version}"
NAME="Ubuntu"
VERSION_ID="{version}"
VERSION="{version} ({codename})"
VERSION_CODENAME={short}
ID=ubuntu
ID_LIKE=debian
HOME_URL="https://www.ubuntu.com/"
UBUNTU_CODENAME={short}
"""


def os_release(os_id: str, version: str, name: str = "") -> OsRelease:
    return OsRelease(os_id, version, name, f"{os_id} {version}", "", "", (), "x", "x")


def test_every_rule_is_cited_and_dated() -> None:
    rules = bundled_catalog().rules
    assert {"ubuntu", "debian", "fedora", "alpine", "rhel", "rocky"} <= set(rules)
    for rule in rules.values():
        assert rule.sources and all(s.startswith("https://") for s in rule.sources), rule.distro
        assert dt.date(2026, 1, 1) <= rule.checked <= dt.date.today(), rule.distro
        assert rule.distro in rule.evidence().lower() or rule.name in rule.evidence()


def test_rules_agree_with_every_listed_release() -> None:
    catalog = bundled_catalog()
    checked = 0
    for release in catalog.releases:
        rule = catalog.rules.get(release.distro.lower())
        if rule is None or release.eol is None or release.released is None:
            continue
        judged = judge_unlisted(os_release(release.distro, release.version), catalog)
        assert judged is not None and judged.lts == release.lts, release.release
        assert judged.max_months is not None
        assert release.eol <= add_months(release.released, judged.max_months), release.release
        if judged.latest_end is not None and judged.earliest_end is not None:
            assert judged.earliest_end <= release.eol <= judged.latest_end, release.release
        checked += 1
    assert checked >= 14  # Ubuntu 18.04-26.04, Debian 10-13, RHEL 7-10, Rocky 8-10


@pytest.mark.parametrize(
    ("os_id", "version", "lts", "window"),
    [
        ("ubuntu", "25.10", False, (dt.date(2026, 5, 1), dt.date(2026, 9, 30))),
        ("ubuntu", "23.04", False, (dt.date(2023, 11, 1), dt.date(2024, 3, 31))),
        ("ubuntu", "28.04", True, (dt.date(2033, 2, 1), dt.date(2033, 6, 30))),
        ("ubuntu", "27.04", False, (dt.date(2027, 11, 1), dt.date(2028, 3, 31))),
        ("ubuntu", "16.04.7", True, (dt.date(2021, 2, 1), dt.date(2021, 6, 30))),
        ("ubuntu", "6.06", True, None),  # the one LTS outside the pattern; before the rule's lengths
        ("ubuntu", "12.10", False, None),  # interim releases had 18 months before 13.04
        ("fedora", "42", False, None),
        ("alpine", "3.23.2", False, None),
        ("debian", "14", True, None),
        ("rhel", "11.2", True, None),
    ],
)
def test_judgements(os_id: str, version: str, lts: bool, window: tuple[dt.date, dt.date] | None) -> None:
    judged = judge_unlisted(os_release(os_id, version), bundled_catalog())
    assert judged is not None and judged.lts is lts and not judged.problem
    got = (judged.earliest_end, judged.latest_end) if judged.latest_end else None
    assert got == window


@pytest.mark.parametrize(
    ("os_id", "version", "problem"),
    [
        ("ubuntu", "25.13", "does not name a release month"),
        ("ubuntu", "25.1O", "not in the form of a Ubuntu stable release"),
        ("ubuntu", "\u0662\u0665.10", "not in the form"),
        ("debian", "", "not in the form of a Debian stable release"),  # testing and sid have no number
        ("fedora", "rawhide", "not in the form"),
        ("alpine", "3.21_alpha20240807", "not in the form"),
    ],
)
def test_versions_a_rule_does_not_recognise(os_id: str, version: str, problem: str) -> None:
    judged = judge_unlisted(os_release(os_id, version), bundled_catalog())
    assert judged is not None and judged.lts is None and problem in judged.problem


def test_only_a_distribution_without_a_rule_has_no_judgement() -> None:
    catalog = bundled_catalog()
    assert judge_unlisted(os_release("acme", "1"), catalog) is None
    assert judge_unlisted(os_release("ubuntu-like", "25.10"), catalog) is None
    assert distro_id(os_release("centos", "10", "CentOS Stream")) == "centos-stream"


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            "lts: never\n    support_months: {other: 13}",
            "lts: sometimes\n    support_months: {other: 13}",
            "field 'lts'",
        ),
        ("support_months: {other: 13}", "support_months: {other: -1}", "field 'support_months'"),
        (
            "    sources:\n      - https://docs.fedoraproject.org/en-US/releases/lifecycle/\n",
            "    sources: []\n",
            "field 'sources'",
        ),
        (
            "version: '[0-9]+'\n    release_month: false\n    lts: never\n    support_months: {other: 13}",
            "version: '[0-9'\n    release_month: false\n    lts: never\n    support_months: {other: 13}",
            "field 'version'",
        ),
        ("    release_month: true\n", "    release_month: false\n", "field 'release_month'"),
        ("  - distro: rocky\n", "  - distro: rhel\n", "a second rule for rhel"),
        (
            "checked: 2026-12-01\n\n  - distro: fedora",
            "checked: 2026-02-30\n\n  - distro: fedora",
            "rules.yaml: not valid YAML",
        ),
    ],
)
def test_malformed_rules_name_the_rule_and_field(old: str, new: str, message: str) -> None:
    texts = bundled_texts()
    assert old in texts["rules.yaml"], old
    texts["rules.yaml"] = texts["rules.yaml"].replace(old, new, 1)
    with pytest.raises(DataError, match=message):
        parse_catalog(texts)


# ----------------------------------------------------------------------------- the checks on images


def _root(tmp_path: Path, text: str) -> Path:
    root = tmp_path / "root"
    (root / "etc").mkdir(parents=True)
    (root / "etc/os-release").write_text(text)
    return root


def _judge(
    root: Path, as_of: dt.date, years: float = 3.0, catalog: Catalog | None = None
) -> dict[str, tuple[Status, str]]:
    report = run_audit(RootfsTarget(str(root)), CheckOptions(as_of, years, catalog=catalog), CHECKS)
    return {r.check: (r.status, " | ".join(e.detail for e in r.evidence)) for r in report.results}


def ubuntu(version: str, codename: str = "Questing Quokka") -> str:
    return UBUNTU.format(version=version, codename=codename, short=codename.split()[0].lower())


def test_an_unlisted_ubuntu_interim_release_is_judged_by_the_rule(tmp_path: Path) -> None:
    results = _judge(_root(tmp_path, ubuntu("23.10", "Mantic Minotaur")), dt.date(2024, 1, 15))
    status, detail = results["os-lts"]
    assert status is Status.FAIL
    assert "not in imagevet's release catalog" in detail and "not a long-term-support release" in detail
    assert "ubuntu.com/about/release-cycle" in detail and "read 2026-12-01" in detail
    assert results["os-supported"][0] is Status.PASS  # released 2023-10: at least until 2024-05-01
    assert results["os-support-window"][0] is Status.FAIL  # at most 0.7 years left; 3 required
    later = _judge(_root(tmp_path / "later", ubuntu("23.10", "Mantic Minotaur")), dt.date(2024, 7, 1))
    assert later["os-supported"][0] is Status.ERROR and "ends about 2024-07" in later["os-supported"][1]
    ended = _judge(_root(tmp_path / "ended", ubuntu("23.04", "Lunar Lobster")), AS_OF_DAY)
    assert (
        ended["os-supported"][0] is Status.FAIL and "by 2024-03-31 at the latest" in ended["os-supported"][1]
    )


def test_an_unlisted_ubuntu_lts_release(tmp_path: Path) -> None:
    results = _judge(_root(tmp_path, ubuntu("28.04", "Zesty Zebra")), dt.date(2028, 6, 1))
    assert results["os-lts"][0] is Status.PASS
    assert results["os-supported"][0] is Status.PASS
    assert results["os-support-window"][0] is Status.PASS  # at least 4.7 years left
    future = _judge(_root(tmp_path / "future", ubuntu("28.04", "Zesty Zebra")), AS_OF_DAY)
    for check in CHECKS:  # a version naming a month after the audit date is not a real release
        assert future[check][0] is Status.ERROR and f"after {AS_OF_DATE}" in future[check][1]


def test_real_fedora_and_alpine_os_release_files(tmp_path: Path, shared_data: Path) -> None:
    fedora = _root(tmp_path / "fedora", (shared_data / "os-release/fedora-42").read_text())
    bundled = bundled_catalog()  # the catalog lists Fedora 42 and 43: judge 42 as if it did not
    unlisted = replace(bundled, releases=tuple(r for r in bundled.releases if r.distro != "fedora"))
    results = _judge(fedora, AS_OF_DAY, catalog=unlisted)
    assert results["os-lts"][0] is Status.FAIL and "Fedora's rule" in results["os-lts"][1]
    assert results["os-supported"][0] is Status.ERROR  # no date in the version, no date in the catalog
    assert results["os-support-window"][0] is Status.FAIL  # at most 15 months from its release
    one_year = _judge(fedora, AS_OF_DAY, years=1.0, catalog=unlisted)
    assert one_year["os-support-window"][0] is Status.ERROR
    listed = _judge(fedora, AS_OF_DAY)  # as listed: Fedora 42 ended, never LTS
    assert listed["os-lts"][0] is Status.FAIL and listed["os-supported"][0] is Status.FAIL
    alpine = _root(tmp_path / "alpine", (shared_data / "os-release/alpine-3.23.2").read_text())
    results = _judge(alpine, AS_OF_DAY)
    assert [results[c][0] for c in CHECKS] == [Status.FAIL, Status.ERROR, Status.FAIL]


def test_a_distribution_without_a_rule_stays_an_error(tmp_path: Path) -> None:
    root = _root(
        tmp_path, 'ID=acme\nVERSION_ID="1.0"\nNAME="Acme OS"\nPRETTY_NAME="Acme OS 1.0"\nID_LIKE=ubuntu\n'
    )
    for status, detail in _judge(root, AS_OF_DAY).values():
        assert status is Status.ERROR and "knows no lifecycle rule" in detail


def test_listed_releases_are_still_judged_by_the_catalog(tmp_path: Path, shared_data: Path) -> None:
    root = _root(tmp_path, (shared_data / "os-release/ubuntu-24.04").read_text())
    results = _judge(root, AS_OF_DAY)
    status, detail = results["os-lts"]
    assert status is Status.PASS and detail.startswith(
        "Ubuntu 24.04 LTS is a long-term-support release | lifecycle data:"
    )
    assert "rule" not in detail


def test_audit_cli_judges_an_unlisted_release_and_refuses_an_unknown_distribution(tmp_path: Path) -> None:
    root = _root(tmp_path, ubuntu("23.10", "Mantic Minotaur"))
    # Not the tests' as-of day: a day 23.10 was still supported (as in the first test of 23.10 above).
    proc = run_imagevet(
        "audit", str(root), "--checks", ",".join(CHECKS), "-f", "json", "--as-of", "2024-01-15"
    )
    results = {r["check"]: r for r in json.loads(proc.stdout)["results"]}
    assert results["os-lts"]["status"] == "fail" and proc.returncode == 1  # os-lts is high: the gate trips
    assert any("Ubuntu's rule" in e["detail"] for e in results["os-lts"]["evidence"])
    shutil.rmtree(root)
    root = _root(tmp_path, "ID=acme\nVERSION_ID=1\n")  # no rule covers acme: any day would do
    proc = run_imagevet(
        "audit", str(root), "--checks", ",".join(CHECKS), "-f", "json", "--as-of", "2026-01-15"
    )
    assert {r["status"] for r in json.loads(proc.stdout)["results"]} == {"error"} and proc.returncode == 1


# ----------------------------------------------------------------------------- the user's override file


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        (
            "releases:\n  debian-12: {eol: 2027-02-30}\n",
            "line 2: releases.debian-12: field 'eol' is not a real date",
        ),
        (
            "releases:\n  debian-12: {eol: 2027-13-01}\n",
            "line 2: releases.debian-12: field 'eol' is not a real date",
        ),
        ("releases:\n  debian-12: {eol: 2027-01-01 10:00:00}\n", "field 'eol' has a time of day"),
        ("releases:\n  debian-12: {eol: [ZQ]}\n", "field 'eol' must be a date"),
        (
            "releases:\n  debian-12: {ZQ: 1}\n",
            "line 2: releases.debian-12: may only set released, eol, extended_eol",
        ),
        ("releases:\n  debian-12: ZQ\n", "line 2: releases.debian-12: may only set"),
        ("releases: [ZQ]\n", "line 1: 'releases' must map release ids to dates"),
        ("ZQ: 1\nreleases: {}\n", "line 1: unknown top-level key"),
        ("releases:\n  debian-12: {eol: 2027-01-01, eol: 2028-01-01}\n", "duplicate key"),
        ("releases: " + "[" * 5000 + "\n", "not valid YAML"),
        ("- ZQ\n", "top level must be a mapping with 'releases'"),
    ],
)
def test_a_bad_override_file_is_one_line_naming_file_and_line(
    tmp_path: Path, content: str, fragment: str
) -> None:
    override = tmp_path / "lifecycle-overrides.yaml"
    override.write_text(content)
    proc = run_imagevet("lifecycle", env={**os.environ, "IMAGEVET_DATA_DIR": str(tmp_path)})
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("imagevet: error:") and str(override) in lines[0], (
        proc.stderr
    )
    assert fragment in lines[0] and "ZQ" not in proc.stderr and "Traceback" not in proc.stderr, lines[0]


def test_month_length_is_the_calendars() -> None:
    """rules.month_length stands in for calendar.monthrange (not imported at start-up): every month of
    every year datetime can hold, leap years and the last December included."""
    import calendar

    from imagevet.catalog.rules import month_length

    for year in range(1, 10000):
        for month in range(1, 13):
            assert month_length(year, month) == calendar.monthrange(year, month)[1], (year, month)
