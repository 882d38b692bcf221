"""Settings file and IMAGEVET_* variables (cli/settings.py): precedence flag > env > file > default, and
every bad file or value refused in one line that names where it came from, never echoing the file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli.support import is_json, one_line_error, run_in
from tests.conftest import AS_OF, FIXTURES
from tests.support.advisories import import_records

HARDENED = str(FIXTURES / "rootfs/hardened-debian")


def test_settings_file_in_the_working_directory_sets_defaults(tmp_path: Path) -> None:
    (tmp_path / "imagevet.yaml").write_text("format: json\n")
    code, out, err = run_in(tmp_path, "lifecycle", AS_OF)
    assert code == 0, err
    assert json.loads(out)["schema"] == "imagevet/lifecycle/v1"
    assert f"settings from {tmp_path / 'imagevet.yaml'}: format" in err


def test_precedence_flag_over_env_over_file_over_default(tmp_path: Path) -> None:
    (tmp_path / "imagevet.yaml").write_text("format: json\n")
    assert not is_json(run_in(tmp_path, "lifecycle", AS_OF, IMAGEVET_FORMAT="table")[1])
    code, out, _ = run_in(tmp_path, "lifecycle", AS_OF, "-f", "json", IMAGEVET_FORMAT="table")
    assert code == 0 and json.loads(out)["schema"] == "imagevet/lifecycle/v1"
    (tmp_path / "imagevet.yaml").unlink()
    assert not is_json(run_in(tmp_path, "lifecycle", AS_OF)[1])


def test_command_section_wins_over_the_top_level(tmp_path: Path) -> None:
    (tmp_path / "imagevet.yaml").write_text("format: table\nlifecycle:\n  format: json\n")
    code, out, _ = run_in(tmp_path, "lifecycle", AS_OF)
    assert code == 0 and json.loads(out)["schema"] == "imagevet/lifecycle/v1"
    code, out, _ = run_in(tmp_path, "checks")
    assert code == 0 and not is_json(out)


def test_group_sections_reach_their_subcommands(tmp_path: Path) -> None:
    (tmp_path / "imagevet.yaml").write_text("db:\n  status:\n    format: json\n")
    import_records(tmp_path / "osv.sqlite3")
    code, out, err = run_in(tmp_path, "db", "status", IMAGEVET_DB=str(tmp_path / "osv.sqlite3"))
    assert code in (0, 1), err
    assert json.loads(out)["schema"].startswith("imagevet/db")


def test_the_gate_options_follow_the_file(tmp_path: Path) -> None:
    """A settings file can lower the gate; it says so on stderr, and the flag still wins."""
    (tmp_path / "imagevet.yaml").write_text("audit:\n  fail-on: never\n")
    code, _, err = run_in(tmp_path, "audit", HARDENED, AS_OF)
    assert code == 0 and "settings from" in err and "fail-on" in err
    assert run_in(tmp_path, "audit", HARDENED, AS_OF, "--fail-on", "medium")[0] == 1


def test_explicit_config_and_the_config_variable(tmp_path: Path) -> None:
    settings = tmp_path / "ci.yaml"
    settings.write_text("format: json\n")
    for args, env in (
        (["--config", str(settings), "lifecycle"], {}),
        (["lifecycle"], {"IMAGEVET_CONFIG": str(settings)}),
    ):
        code, out, err = run_in(tmp_path, *args, AS_OF, **env)
        assert code == 0 and json.loads(out)["schema"] == "imagevet/lifecycle/v1", err
    code, out, _ = run_in(tmp_path, "lifecycle", AS_OF, f"--config={settings}")
    assert code == 0 and json.loads(out)


def test_lists_and_flags(tmp_path: Path) -> None:
    (tmp_path / "imagevet.yaml").write_text("recommend:\n  gpu: true\n  format: json\n")
    code, out, err = run_in(tmp_path, "recommend", "-s", "bigdata-ml", "-c", "aws", AS_OF)
    assert code in (0, 1), err
    assert json.loads(out)["query"]["gpu"] is True


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        ("fail_on: medium\n", "line 1: unknown setting"),
        ("audit:\n  framework: cis-l1\n", "line 2: unknown setting in section 'audit'"),
        ("- format\n", "must be a mapping"),
        ("format: [json, table]\n", "line 1: format takes one value, not a list"),
        ("format: {a: 1}\n", "line 1: format must be a single value"),
        ("format: xml\n", "line 1: --format: 'xml' is not one of"),
        ("help: true\n", "'help' cannot be set"),
        ("config: other.yaml\n", "'config' cannot be set"),
        ("format: json\nformat: table\n", "duplicate key"),
        ("a: &a [*a]\n", "alias"),
        ("format: 'json\n", "not valid YAML"),
    ],
)
def test_bad_settings_are_one_line_naming_the_file(tmp_path: Path, content: str, fragment: str) -> None:
    (tmp_path / "imagevet.yaml").write_text(content)
    code, out, err = run_in(tmp_path, "lifecycle", AS_OF)
    assert code == 2 and out == ""
    line = one_line_error(err)
    assert str(tmp_path / "imagevet.yaml") in line and fragment in line, line


def test_bad_settings_never_echo_the_file(tmp_path: Path) -> None:
    (tmp_path / "imagevet.yaml").write_text("sekrit-value-4711: x\n")
    code, _, err = run_in(tmp_path, "lifecycle", AS_OF)
    assert code == 2 and "4711" not in err


@pytest.mark.parametrize(
    ("make", "fragment"),
    [
        (lambda p: p.write_bytes(b"format: \xff\xfe\n"), "not UTF-8"),
        (lambda p: p.write_bytes(b"# " + b"x" * 300_000 + b"\n"), "larger than"),
        (lambda p: p.mkdir(), "not a regular file"),
        (lambda p: None, "does not exist"),
    ],
)
def test_unreadable_named_settings_file(tmp_path: Path, make: object, fragment: str) -> None:
    path = tmp_path / "named.yaml"
    make(path)  # type: ignore[operator]
    code, _, err = run_in(tmp_path, "--config", str(path), "lifecycle", AS_OF)
    assert code == 2 and fragment in one_line_error(err)


def test_a_directory_named_imagevet_yaml_in_the_working_directory_is_refused(tmp_path: Path) -> None:
    """It is not a settings file, and taking it for none would drop settings without a word."""
    (tmp_path / "imagevet.yaml").mkdir()
    code, _, err = run_in(tmp_path, "lifecycle", AS_OF)
    assert code == 2 and "is not a regular file" in one_line_error(err)


def test_environment_values_are_checked_and_named(tmp_path: Path) -> None:
    code, _, err = run_in(tmp_path, "audit", HARDENED, AS_OF, IMAGEVET_FAIL_ON="sometimes")
    assert code == 2
    line = one_line_error(err)
    assert line.startswith("imagevet: error: IMAGEVET_FAIL_ON: --fail-on: 'sometimes' is not one of"), line
    code, _, err = run_in(tmp_path, "audit", HARDENED, AS_OF, IMAGEVET_LIFECYCLE_YEARS="many")
    assert code == 2 and "IMAGEVET_LIFECYCLE_YEARS: --lifecycle-years: not a number" in one_line_error(err)


def test_environment_sets_the_gate(tmp_path: Path) -> None:
    assert run_in(tmp_path, "audit", HARDENED, AS_OF, IMAGEVET_FAIL_ON="never")[0] == 0


def test_a_typed_bad_value_is_not_blamed_on_the_file(tmp_path: Path) -> None:
    (tmp_path / "imagevet.yaml").write_text("format: json\n")
    code, _, err = run_in(tmp_path, "lifecycle", AS_OF, "--format", "xml")
    line = err.strip().splitlines()[-1]
    assert code == 2 and line.startswith("imagevet: error: --format: 'xml'"), err


def test_a_signing_key_in_imagevet_key_is_never_taken_for_a_file_name(tmp_path: Path) -> None:
    """The generated pipeline names the signing key's secret IMAGEVET_KEY: its content must neither be
    used as --key nor appear in any message."""
    pem = "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIAAAAsekrit\n-----END PRIVATE KEY-----\n"
    code, _, err = run_in(tmp_path, "attest", HARDENED, "--image-id", "ami-1", IMAGEVET_KEY=pem)
    assert code == 2 and "sekrit" not in err and "BEGIN" not in err
    assert "--key" in one_line_error(err)


def test_values_with_line_breaks_are_refused_unshown(tmp_path: Path) -> None:
    code, _, err = run_in(tmp_path, "audit", HARDENED, AS_OF, IMAGEVET_WAIVERS="a\nsekrit")
    assert code == 2 and "sekrit" not in err
    assert "IMAGEVET_WAIVERS: waivers: the value has line breaks" in one_line_error(err)
    (tmp_path / "imagevet.yaml").write_text('waivers: "a\\nsekrit"\n')
    code, _, err = run_in(tmp_path, "audit", HARDENED, AS_OF)
    assert code == 2 and "sekrit" not in err and "line 1: waivers: the value has line breaks" in err


@pytest.mark.parametrize(
    "key", ["output", "output-dir", "push", "server", "base-url", "token", "database-url"]
)
def test_a_settings_file_never_chooses_where_imagevet_writes_or_sends(tmp_path: Path, key: str) -> None:
    """An imagevet.yaml committed to the repository under review must not overwrite the user's files or
    post the report, with the user's token, to a server of its own."""
    victim = tmp_path / "precious.txt"
    victim.write_text("keep me\n")
    (tmp_path / "imagevet.yaml").write_text(f"{key}: {victim}\n")
    code, _, err = run_in(tmp_path, "lifecycle", AS_OF)
    assert code == 2 and f"'{key}' cannot be set in a settings file" in one_line_error(err)
    assert victim.read_text() == "keep me\n"


def test_a_file_that_moves_the_gate_is_named_even_with_quiet(tmp_path: Path) -> None:
    (tmp_path / "imagevet.yaml").write_text("audit:\n  fail-on: never\n")
    code, _, err = run_in(tmp_path, "audit", HARDENED, AS_OF, "-q")
    assert code == 0 and err.strip() == f"imagevet: settings from {tmp_path / 'imagevet.yaml'}: fail-on"
    (tmp_path / "imagevet.yaml").write_text("format: json\n")
    assert run_in(tmp_path, "lifecycle", AS_OF, "-q")[2] == ""
