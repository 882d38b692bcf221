"""The root-confined target: hostile links never reach the host, bad files become reasons, not crashes."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from imagevet.errors import TargetError
from imagevet.model import Unknown
from imagevet.target import RootfsTarget, open_target
from imagevet.target.base import MAX_READ_BYTES


@pytest.fixture
def host_secret(tmp_path: Path) -> Path:
    """A file that exists only on the host, outside the image, with recognisable content."""
    secret = tmp_path / "host-only" / "secret.txt"
    secret.parent.mkdir()
    secret.write_text("HOST SECRET\n")
    return secret


@pytest.fixture
def image(tmp_path: Path) -> Path:
    root = tmp_path / "image"
    (root / "etc" / "ssh").mkdir(parents=True)
    (root / "etc" / "shadow").write_text("root:*:19000:0:99999:7:::\n")
    return root


def test_absolute_link_is_rerooted_to_the_image(image: Path) -> None:
    (image / "etc/ssh/sshd_config").symlink_to("/etc/shadow")
    text = RootfsTarget(str(image)).read_text("/etc/ssh/sshd_config")
    assert text == "root:*:19000:0:99999:7:::\n"  # the image's shadow, never the host's


def test_dotdot_link_stops_at_the_image_root(image: Path) -> None:
    (image / "etc/ssh/sshd_config").symlink_to("../../../../../../../../etc/shadow")
    assert RootfsTarget(str(image)).read_text("/etc/ssh/sshd_config") == "root:*:19000:0:99999:7:::\n"


def test_link_to_a_host_only_file_is_unknown(image: Path, host_secret: Path) -> None:
    (image / "etc/ssh/sshd_config").symlink_to(str(host_secret))
    result = RootfsTarget(str(image)).read_text("/etc/ssh/sshd_config")
    assert isinstance(result, Unknown)
    assert "does not exist in the image" in result.reason


def test_relative_escape_to_a_host_only_file_is_unknown(image: Path, host_secret: Path) -> None:
    relative = os.path.relpath(host_secret, image / "etc" / "ssh")  # ../../../host-only/secret.txt
    (image / "etc/ssh/sshd_config").symlink_to(relative)
    result = RootfsTarget(str(image)).read_text("/etc/ssh/sshd_config")
    assert isinstance(result, Unknown)


def test_directory_link_escape_is_confined(image: Path, host_secret: Path) -> None:
    (image / "etc/ssh/sshd_config.d").symlink_to(str(host_secret.parent))
    target = RootfsTarget(str(image))
    assert isinstance(target.read_text("/etc/ssh/sshd_config.d/secret.txt"), Unknown)
    assert target.glob("/etc/ssh/sshd_config.d/*.txt") == []


def test_dotdot_in_requested_path_cannot_climb(image: Path) -> None:
    target = RootfsTarget(str(image))
    assert target.read_text("/../../../etc/shadow") == "root:*:19000:0:99999:7:::\n"


def test_symlink_loop_is_unknown(image: Path) -> None:
    (image / "etc/a").symlink_to("b")
    (image / "etc/b").symlink_to("a")
    result = RootfsTarget(str(image)).read_text("/etc/a")
    assert isinstance(result, Unknown)
    assert "link" in result.reason


def test_self_loop_directory_is_unknown(image: Path) -> None:
    (image / "etc/loop").symlink_to("/etc/loop")
    assert isinstance(RootfsTarget(str(image)).read_text("/etc/loop/x"), Unknown)


def test_missing_file_is_unknown(image: Path) -> None:
    result = RootfsTarget(str(image)).read_text("/etc/nothing")
    assert isinstance(result, Unknown)
    assert "does not exist" in result.reason


def test_oversized_file_is_unknown(image: Path) -> None:
    big = image / "etc" / "big.conf"
    with big.open("wb") as handle:
        handle.truncate(MAX_READ_BYTES + 1)
    result = RootfsTarget(str(image)).read_text("/etc/big.conf")
    assert isinstance(result, Unknown)
    assert "larger than" in result.reason


def test_binary_file_is_unknown(image: Path) -> None:
    (image / "etc" / "bin.conf").write_bytes(b"PasswordAuthentication no\x00\x01")
    result = RootfsTarget(str(image)).read_text("/etc/bin.conf")
    assert isinstance(result, Unknown) and "binary" in result.reason


def test_non_utf8_file_is_unknown(image: Path) -> None:
    (image / "etc" / "latin1.conf").write_bytes("caf\xe9\n".encode("latin-1"))
    result = RootfsTarget(str(image)).read_text("/etc/latin1.conf")
    assert isinstance(result, Unknown) and "UTF-8" in result.reason


def test_fifo_does_not_hang(image: Path) -> None:
    os.mkfifo(image / "etc" / "fifo")
    result = RootfsTarget(str(image)).read_text("/etc/fifo")
    assert isinstance(result, Unknown) and "regular file" in result.reason


def test_directory_is_not_a_file(image: Path) -> None:
    assert isinstance(RootfsTarget(str(image)).read_text("/etc/ssh"), Unknown)


def test_glob_is_sorted_and_skips_hidden(image: Path) -> None:
    for name in ("20-b.conf", "10-a.conf", ".hidden.conf", "30-c.txt"):
        (image / "etc/ssh" / name).write_text("")
    assert RootfsTarget(str(image)).glob("/etc/ssh/*.conf") == ["/etc/ssh/10-a.conf", "/etc/ssh/20-b.conf"]


def test_readlink_and_canonical(image: Path) -> None:
    (image / "etc" / "masked.conf").symlink_to("/dev/null")
    target = RootfsTarget(str(image))
    assert target.readlink("/etc/masked.conf") == "/dev/null"
    assert target.readlink("/etc/shadow") is None
    (image / "etc" / "alias").symlink_to("shadow")
    assert target.canonical("/etc/alias") == "/etc/shadow"


@pytest.mark.parametrize("spec", ["", "/nonexistent/imagevet/root"])
def test_open_target_rejects_missing(spec: str) -> None:
    with pytest.raises(TargetError):
        open_target(spec)


def test_open_target_rejects_a_file(image: Path) -> None:
    with pytest.raises(TargetError, match="not a directory"):
        open_target(str(image / "etc" / "shadow"))


def test_slash_is_the_live_host() -> None:
    target = open_target("/")
    assert target.is_live_host and target.info.kind == "host"
    assert not open_target(str(Path(__file__).parent)).is_live_host
