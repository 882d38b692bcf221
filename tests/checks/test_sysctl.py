"""sysctl checks: value rows of sysctl.yaml judged over the boot-time (and, live, the running) values;
the keys read from a live kernel are the rows' keys, never a hand list."""

from __future__ import annotations

import copy
import datetime as dt
from pathlib import Path

from imagevet.audit import run_audit
from imagevet.checks.base import CheckOptions
from imagevet.checks.metadata import load_subjects, subject_documents
from imagevet.checks.needs import builtin_needs, row_keys
from imagevet.checks.registry import REGISTRY, ROW
from imagevet.checks.values import UNSET_SYSCTL
from imagevet.facts import Facts
from imagevet.facts.collection import FactNeeds
from imagevet.model import Status
from imagevet.target import RootfsTarget

AS_OF = dt.date(2026, 11, 28)


def statuses(root: Path, checks: list[str], live: bool = False) -> dict[str, Status]:
    report = run_audit(RootfsTarget(str(root), live_host=live), CheckOptions(AS_OF), checks)
    return {r.check: r.status for r in report.results}


def test_sysctl_hardening(debian: Path) -> None:
    checks = ["sysctl-accept-redirects", "sysctl-send-redirects", "sysctl-log-martians", "sysctl-ip-forward"]
    report = run_audit(RootfsTarget(str(debian)), CheckOptions(AS_OF), checks)
    # the debootstrap root sets none of them: ip_forward's kernel default (0) is right, yet not the image's
    assert {r.check: r.status for r in report.results} == dict.fromkeys(checks, Status.FAIL)
    forward = next(r for r in report.results if r.check == "sysctl-ip-forward")
    assert [e.detail for e in forward.evidence] == [
        "net.ipv4.ip_forward = 0 (kernel default); wanted 0",
        f"net.ipv4.ip_forward is not set in any sysctl file: {UNSET_SYSCTL}",
    ]
    (debian / "etc/sysctl.d/61-cis.conf").write_text(
        "net.ipv4.conf.all.accept_redirects = 0\nnet.ipv4.conf.default.accept_redirects = 0\n"
        "net.ipv4.conf.all.send_redirects = 0\nnet.ipv4.conf.default.send_redirects = 0\n"
        "net.ipv4.conf.all.log_martians = 1\nnet.ipv4.ip_forward = 1\n"
    )
    got = statuses(debian, checks)
    assert got["sysctl-accept-redirects"] is Status.PASS and got["sysctl-ip-forward"] is Status.FAIL
    assert got["sysctl-log-martians"] is Status.FAIL  # the `default` key still unset
    with (debian / "etc/sysctl.d/61-cis.conf").open("a") as conf:
        conf.write("net.ipv4.conf.default.log_martians = 1\nnet.ipv4.ip_forward = 0\n")  # the later line wins
    got = statuses(debian, checks)
    assert got["sysctl-log-martians"] is Status.PASS and got["sysctl-ip-forward"] is Status.PASS


def test_one_key_of_a_row_failing_fails_the_check_and_names_both(debian: Path) -> None:
    (debian / "etc/sysctl.d/61-cis.conf").write_text("net.ipv4.conf.all.accept_redirects = 0\n")
    report = run_audit(RootfsTarget(str(debian)), CheckOptions(AS_OF), ["sysctl-accept-redirects"])
    result = report.results[0]
    assert result.status is Status.FAIL
    assert [e.detail.split(" = ")[0] for e in result.evidence][:2] == [
        "net.ipv4.conf.all.accept_redirects",
        "net.ipv4.conf.default.accept_redirects",
    ]


def test_a_kernel_default_that_would_pass_still_fails_until_a_file_sets_it(debian: Path) -> None:
    """CIS's audit and SSG's rules ask for the key in a file systemd-sysctl loads (docs/checks.md)."""
    assert statuses(debian, ["sysctl-aslr"])["sysctl-aslr"] is Status.FAIL  # default 2 is the wanted value
    (debian / "usr/lib/sysctl.d").mkdir(parents=True, exist_ok=True)
    (debian / "usr/lib/sysctl.d/50-vendor.conf").write_text("kernel.randomize_va_space = 2\n")
    assert statuses(debian, ["sysctl-aslr"])["sysctl-aslr"] is Status.PASS  # a vendor file counts


def test_a_word_where_a_number_belongs_is_an_error(debian: Path) -> None:
    (debian / "etc/sysctl.d/61-cis.conf").write_text("kernel.randomize_va_space = full\n")
    assert statuses(debian, ["sysctl-aslr"])["sysctl-aslr"] is Status.ERROR


def test_the_running_value_counts_on_a_live_host(debian: Path) -> None:
    (debian / "proc/sys/kernel").mkdir(parents=True)
    (debian / "etc/sysctl.d/61-cis.conf").write_text("kernel.randomize_va_space = 2\n")
    (debian / "proc/sys/kernel/randomize_va_space").write_text("0\n")
    assert statuses(debian, ["sysctl-aslr"])["sysctl-aslr"] is Status.PASS  # not live: /proc is not read
    assert statuses(debian, ["sysctl-aslr"], live=True)["sysctl-aslr"] is Status.FAIL


def test_live_keys_are_the_rows_keys() -> None:
    metadata = load_subjects(subject_documents(), {c: e is ROW for c, e in REGISTRY}).values()
    assert builtin_needs().sysctl_keys == row_keys(metadata, "sysctl")
    assert builtin_needs().file_modes == row_keys(metadata, "files")
    assert "kernel.randomize_va_space" in builtin_needs().sysctl_keys


def test_adding_a_row_adds_its_key_to_the_live_keys(tmp_path: Path) -> None:
    documents = copy.deepcopy(subject_documents())
    new = copy.deepcopy(documents["sysctl"]["checks"]["sysctl-aslr"])
    new["value"] = {"fact": "sysctl", "keys": ["kernel.kptr_restrict"], "op": "ge", "want": 1}
    documents["sysctl"]["checks"]["sysctl-kptr-restrict"] = new
    registry = {c: e is ROW for c, e in REGISTRY} | {"sysctl-kptr-restrict": True}
    keys = row_keys(load_subjects(documents, registry).values(), "sysctl")
    assert "kernel.kptr_restrict" in keys and "kernel.kptr_restrict" not in builtin_needs().sysctl_keys
    # ... and a live host's facts then read that key's running value.
    (tmp_path / "proc/sys/kernel").mkdir(parents=True)
    (tmp_path / "proc/sys/kernel/kptr_restrict").write_text("0\n")
    facts = Facts(RootfsTarget(str(tmp_path), live_host=True), needs=FactNeeds(sysctl_keys=keys))
    assert facts.sysctl.running == {"kernel.kptr_restrict": "0"}
