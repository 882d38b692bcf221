"""/etc/crypto-policies/config read as update-crypto-policies reads it; the check fails LEGACY only."""

from __future__ import annotations

from pathlib import Path

import pytest

from imagevet.facts.crypto_policy import CryptoPolicy, gather_crypto_policy, parse_config
from imagevet.model import Status, Unknown
from imagevet.target import RootfsTarget
from tests.checks.support import statuses
from tests.facts.hostile import HOSTILE, plant


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("DEFAULT\n", CryptoPolicy("DEFAULT", (), 1)),
        (
            "# set by the image build\n\nDEFAULT:SHA1 # for an old partner\n",
            CryptoPolicy("DEFAULT", ("SHA1",), 3),
        ),
        ("LEGACY:AD-SUPPORT\n", CryptoPolicy("LEGACY", ("AD-SUPPORT",), 1)),
        ("# nothing\n", None),
    ],
)
def test_parse_config(text: str, expected: CryptoPolicy | None) -> None:
    assert parse_config(text) == expected


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        ("DEFAULT\n", Status.PASS),
        ("FUTURE\n", Status.PASS),
        ("LEGACY\n", Status.FAIL),
        ("legacy:SHA1\n", Status.FAIL),
    ],
)
def test_the_check(tmp_path: Path, config: str, expected: Status) -> None:
    (tmp_path / "etc/crypto-policies").mkdir(parents=True)
    (tmp_path / "etc/crypto-policies/config").write_text(config)
    assert statuses(tmp_path, ["crypto-policy-not-legacy"]) == {"crypto-policy-not-legacy": expected}


def test_no_crypto_policies_skips_and_an_empty_directory_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "etc").mkdir()
    assert statuses(tmp_path, ["crypto-policy-not-legacy"]) == {"crypto-policy-not-legacy": Status.SKIP}
    (tmp_path / "etc/crypto-policies").mkdir()  # the package's directory without its config: not judged
    assert statuses(tmp_path, ["crypto-policy-not-legacy"]) == {"crypto-policy-not-legacy": Status.ERROR}


@pytest.mark.parametrize("kind", HOSTILE)
def test_hostile_configs(tmp_path: Path, kind: str) -> None:
    plant(tmp_path, "/etc/crypto-policies/config", kind)
    found = gather_crypto_policy(RootfsTarget(str(tmp_path)))
    assert isinstance(found, Unknown) and found.reason.startswith("/etc/crypto-policies/config: ")
