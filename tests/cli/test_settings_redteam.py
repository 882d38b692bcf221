"""Red team of the settings file, IMAGEVET_* variables and the shared CLI options (cli/settings.py,
cli/__init__.py), written by a red-team session against the first version: 21 of these attacks got
through then (a file sending the token with `db update --rescan`, forging an attestation's digest, YAML
turning `22.10` into 22.1, a broken ./imagevet.yaml silently ignored ...). All are refused now, and each
test guards against the attack coming back."""

from __future__ import annotations

import base64
import json
import os
import threading
import time
import tracemalloc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from imagevet.cli import build_command, plain
from imagevet.cli import settings as settings_module
from imagevet.errors import ImagevetError
from tests.cli.support import is_json, one_line_error, run_in
from tests.conftest import AS_OF, FIXTURES
from tests.support.advisories import RECORDS, archive_of, import_records

ROOTS = FIXTURES / "rootfs"
HARDENED = str(
    ROOTS / "hardened-debian"
)  # cloud-init 22.4.2; one high, unfixed advisory in tests/fixtures/osv
SECRET = "sekrit-4711"


def last_error(stderr: str) -> str:
    """The error line (a `settings from` notice may come before it)."""
    assert "Traceback" not in stderr, stderr
    lines = stderr.strip().splitlines()
    assert lines and lines[-1].startswith("imagevet: error: "), stderr
    return lines[-1]


def settings_file(folder: Path, content: str | bytes) -> Path:
    path = folder / "imagevet.yaml"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    return path


def fixture_db(folder: Path) -> Path:
    database = folder / "osv.sqlite3"
    import_records(database)
    return database


def results_of(report: str) -> dict[str, str]:
    return {r["check"]: r["status"] for r in json.loads(report)["results"]}


# --------------------------------------------------------------------------------------------------------
# Destinations and identities a settings file must not choose (the file may be the repository's own).
# --------------------------------------------------------------------------------------------------------


@contextmanager
def osv_and_service(archive: Path) -> Iterator[tuple[str, list[dict[str, str]]]]:
    """One HTTP server that is both an OSV mirror (GET /api/Debian/all.zip) and an imagevet service that
    records every POST it receives with its headers (what an attacker's server would keep)."""
    posts: list[dict[str, str]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path.split("?", 1)[0] != "/api/Debian/all.zip":
                self.send_error(404)
                return
            body = archive.read_bytes()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            self.rfile.read(length)
            posts.append({"path": self.path, **{k.lower(): v for k, v in self.headers.items()}})
            body = b'{"job": "1"}'
            self.send_response(202)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", posts
    finally:
        server.shutdown()
        server.server_close()


def test_a_settings_file_cannot_send_the_token_with_db_update_rescan(tmp_path: Path) -> None:
    archive = archive_of(RECORDS, tmp_path / "all.zip")
    with osv_and_service(archive) as (base, posts):
        settings_file(tmp_path, f"db:\n  update:\n    rescan: {base}/evil\n")
        code, _, err = run_in(
            tmp_path,
            *("db", "update", "-e", "Debian", "--base-url", f"{base}/api", "--db", str(tmp_path / "x.db")),
            *("--timeout", "10"),
            IMAGEVET_TOKEN=SECRET,
            no_proxy="127.0.0.1",
            NO_PROXY="127.0.0.1",
        )
    assert not any(SECRET in json.dumps(p) for p in posts), f"the token was sent: {posts}"
    assert code == 2 and "rescan" in last_error(err)


def test_a_settings_file_cannot_choose_where_db_import_writes(tmp_path: Path) -> None:
    planted = tmp_path / "elsewhere" / "deep" / "planted.sqlite3"
    settings_file(tmp_path, f"db: {planted}\n")
    code, _, err = run_in(tmp_path, "db", "import", str(RECORDS))
    assert not planted.exists() and not planted.parent.exists(), "the file chose where imagevet wrote"
    assert code == 2 and "'db' cannot be set in a settings file" in last_error(err)


def test_a_settings_file_cannot_move_the_key_pair_out_of_output_dir(tmp_path: Path) -> None:
    keys, elsewhere = tmp_path / "keys", tmp_path / "elsewhere"
    keys.mkdir()
    elsewhere.mkdir()
    settings_file(tmp_path, f"attest:\n  name: {elsewhere / 'planted'}\n")
    code, _, err = run_in(tmp_path, "attest", "keygen", "--output-dir", str(keys))
    assert list(elsewhere.iterdir()) == [], "the key pair was written where the file said"
    assert code == 2, err


def test_a_settings_file_cannot_choose_the_digest_an_attestation_signs(tmp_path: Path) -> None:
    keys = tmp_path / "keys"
    keys.mkdir()
    assert run_in(tmp_path, "attest", "keygen", "--output-dir", str(keys))[0] == 0
    forged = "sha256:" + "0" * 64
    settings_file(tmp_path, f'attest:\n  digest: "{forged}"\n')
    envelope = tmp_path / "envelope.json"
    code, _, err = run_in(
        tmp_path,
        *("attest", HARDENED, "--image-id", "ami-1", "--key", str(keys / "imagevet.key"), AS_OF),
        *("-q", "-o", str(envelope)),
    )
    if envelope.exists():
        statement = json.loads(base64.b64decode(json.loads(envelope.read_text())["payload"]))
        assert statement["subject"][0]["digest"]["sha256"] != "0" * 64, "the file chose the signed digest"
    assert code == 2 and "digest" in last_error(err)


def test_push_with_no_value_is_an_empty_section_that_sets_nothing(tmp_path: Path) -> None:
    settings_file(tmp_path, "push:\n")
    code, out, err = run_in(tmp_path, "lifecycle", AS_OF, "-f", "json")
    assert code == 0 and is_json(out) and "settings from" not in err


@pytest.mark.parametrize(
    "content",
    [
        "audit:\n  <<: {output: /tmp/x}\n",  # a merge inside a section
        "<<: {audit: {output: /tmp/x}}\n",  # a section inside a merge
        "<<: [{format: json}, {output-dir: /tmp/x}]\n",  # the second of a merge list
        "!!str output: /tmp/x\n",  # a tagged key
        "? output\n: /tmp/x\n",  # an explicit key
        '"output": /tmp/x\n',  # a quoted key
        "push:\n  server: http://evil.example\n",  # push as a section
        "push: http://evil.example\n",  # push as an option
        "token:\n  create:\n    database-url: sqlite:////tmp/x\n",  # token as a section
        "token: abc\n",  # token as an option
        "db:\n  update:\n    base-url: http://evil.example\n",  # nested two levels
        "audit: {output-dir: /tmp/x}\n",  # flow style
        "attest:\n  key: /tmp/x\n",
        "serve:\n  queue: true\n",
    ],
)
def test_destinations_do_not_sneak_past_the_refusal(tmp_path: Path, content: str) -> None:
    settings_file(tmp_path, content)
    code, out, err = run_in(tmp_path, "lifecycle", AS_OF)
    assert code == 2 and out == ""
    assert "cannot be set in a settings file" in one_line_error(err)


@pytest.mark.parametrize(
    "key",
    [
        "Output",
        "OUTPUT",
        "output_dir",
        "--output",
        "out\u200bput",
        "\u202eoutput",
        "outp\u0443t",
        "output\u00a0",
    ],
)
def test_differently_spelled_destinations_are_unknown_settings(tmp_path: Path, key: str) -> None:
    """Case, underscores, dashes, zero-width and bidi characters, a Cyrillic look-alike: never a key."""
    settings_file(tmp_path, json.dumps({key: "/tmp/x"}) + "\n")
    code, _, err = run_in(tmp_path, "lifecycle", AS_OF)
    line = one_line_error(err)
    assert code == 2 and "unknown setting" in line and "/tmp/x" not in line


# --------------------------------------------------------------------------------------------------------
# Settings that move the gate, and values YAML changes on the way.
# --------------------------------------------------------------------------------------------------------


def test_a_file_that_filters_vulnerabilities_is_named_even_with_quiet(tmp_path: Path) -> None:
    database = fixture_db(tmp_path)
    assert run_in(tmp_path, "vuln", HARDENED, AS_OF, "-q", "--db", str(database))[0] == 1
    settings_file(tmp_path, "vuln:\n  severity: low\n")
    code, _, err = run_in(tmp_path, "vuln", HARDENED, AS_OF, "-q", "--fail-on", "high", "--db", str(database))
    assert code == 1  # --severity filters what is shown, never the gate (it once moved it)
    assert "settings from" in err and "severity" in err


def test_a_file_that_moves_the_lifecycle_date_is_named_even_with_quiet(tmp_path: Path) -> None:
    root = str(ROOTS / "ubuntu2510")
    settings_file(tmp_path, "audit:\n  as-of: 2019-06-01\n")
    code, out, err = run_in(tmp_path, "audit", root, "-q", "-f", "json")
    assert code in (0, 1) and results_of(out)["os-supported"] != "fail"  # the date moved
    assert "settings from" in err and "as-of" in err


def test_an_unquoted_version_keeps_its_text(tmp_path: Path) -> None:
    typed = run_in(tmp_path, "audit", HARDENED, AS_OF, "-q", "-f", "json", "--min-cloud-init", "22.10")[1]
    assert results_of(typed)["cloudinit-version"] == "fail"
    settings_file(tmp_path, "audit:\n  min-cloud-init: 22.10\n")
    code, out, err = run_in(tmp_path, "audit", HARDENED, AS_OF, "-q", "-f", "json")
    if code == 2:  # refusing the float (quote it) is as good as keeping its text
        assert "min-cloud-init" in last_error(err)
        return
    assert results_of(out)["cloudinit-version"] == "fail", "the file's 22.10 was read as 22.1"


@pytest.mark.parametrize(
    ("content", "args"),
    [
        ("audit:\n  waivers: ~\n", ["audit", HARDENED, AS_OF]),
        ("lifecycle:\n  format: null\n", ["lifecycle", AS_OF]),
        ("audit:\n  db:\n", ["audit", HARDENED, AS_OF]),
    ],
)
def test_a_null_value_is_refused_as_empty_not_read_as_none(
    tmp_path: Path, content: str, args: list[str]
) -> None:
    (tmp_path / "None").write_text("waivers: []\n")  # a file the user never named
    settings_file(tmp_path, content)
    code, _, err = run_in(tmp_path, *args)
    line = last_error(err)
    assert code == 2 and "line 2" in line and "None" not in line, line


@pytest.mark.parametrize("value", [".nan", "-1", ".NaN", "-.inf"])
def test_absurd_numbers_are_refused(tmp_path: Path, value: str) -> None:
    settings_file(tmp_path, f"audit:\n  max-db-age: {value}\n")
    code, _, err = run_in(tmp_path, "audit", HARDENED, AS_OF, "-q")
    line = one_line_error(err)
    assert code == 2 and (
        "line 2: --max-db-age: must be at least 0" in line or "line 2: --max-db-age: not a number" in line
    ), line


@pytest.mark.parametrize(("value", "expected"), [("yes", 0), ("2", 2), ('""', 1), ("null", 2), ("[true]", 2)])
def test_only_a_true_value_allows_errors(tmp_path: Path, value: str, expected: int) -> None:
    """`allow-errors: ""` counts as false (errors still trip the gate: exit 1); odd values are refused."""
    settings_file(tmp_path, f"audit:\n  allow-errors: {value}\n")
    code, _, _ = run_in(tmp_path, "audit", HARDENED, AS_OF, "-q", IMAGEVET_DB=str(tmp_path / "absent"))
    assert code == expected


def test_a_bad_flag_value_is_said_in_imagevet_words(tmp_path: Path) -> None:
    settings_file(tmp_path, "audit:\n  allow-errors: 2\n")
    code, _, err = run_in(tmp_path, "audit", HARDENED, AS_OF)
    line = one_line_error(err)
    assert code == 2 and "line 2: --allow-errors" in line and "Input should be" not in line, line


def test_plain_rewrites_what_it_knows() -> None:
    typer_says = "Input should be a valid integer, unable to parse string as an integer"
    assert plain(f"Invalid value for '--x' / '-x': {typer_says}") == "--x: not a whole number"


@pytest.mark.parametrize(
    ("content", "env", "source"),
    [
        ("audit:\n  min-cloud-init: abc\n", {}, "imagevet.yaml: line 2"),
        ("audit:\n  as-of: someday\n", {}, "imagevet.yaml: line 2"),
        ("", {"IMAGEVET_AS_OF": "someday"}, "IMAGEVET_AS_OF"),
        ("", {"IMAGEVET_WAIVERS": "no-such-waivers.yaml"}, "IMAGEVET_WAIVERS"),
    ],
)
def test_values_the_command_checks_are_named_by_their_source(
    tmp_path: Path, content: str, env: dict[str, str], source: str
) -> None:
    if content:
        settings_file(tmp_path, content)
    code, _, err = run_in(tmp_path, "audit", HARDENED, **env)
    assert code == 2 and source in last_error(err), err


@pytest.mark.parametrize("where", ["file", "env"])
def test_a_long_bad_value_is_not_echoed_back(tmp_path: Path, where: str) -> None:
    value = "x" * 100_000  # an environment string may hold at most 128 KiB
    env = {"IMAGEVET_FORMAT": value} if where == "env" else {}
    if where == "file":
        settings_file(tmp_path, f"format: {value}\n")
    code, _, err = run_in(tmp_path, "lifecycle", AS_OF, **env)
    assert code == 2
    assert len(one_line_error(err)) < 1000, f"{len(err)} characters on stderr"


def test_a_secret_with_a_line_break_in_any_option_variable_is_never_shown(tmp_path: Path) -> None:
    for name in ("IMAGEVET_FORMAT", "IMAGEVET_WAIVERS", "IMAGEVET_IDENTITY", "IMAGEVET_MAX_DB_AGE"):
        code, _, err = run_in(tmp_path, "audit", HARDENED, AS_OF, **{name: f"x\n{SECRET}"})
        assert code == 2 and SECRET not in err and name in one_line_error(err)


def test_the_key_secret_and_the_token_are_never_options_from_elsewhere(tmp_path: Path) -> None:
    """IMAGEVET_KEY is the pipeline's signing-key secret; a file may not hold token or key."""
    code, _, err = run_in(tmp_path, "attest", HARDENED, "--image-id", "i", IMAGEVET_KEY=SECRET)
    assert code == 2 and SECRET not in err
    for key in ("token", "key"):
        settings_file(tmp_path, f"{key}: {SECRET}\n")
        code, _, err = run_in(tmp_path, "lifecycle", AS_OF)
        assert code == 2 and SECRET not in err and "cannot be set" in one_line_error(err)


def test_an_empty_imagevet_db_still_means_the_data_dir_database(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    import_records(data / "osv.sqlite3")
    code, _, err = run_in(
        tmp_path, "audit", HARDENED, AS_OF, "-q", IMAGEVET_DATA_DIR=str(data), IMAGEVET_DB=""
    )
    assert code == 0, err


# --------------------------------------------------------------------------------------------------------
# Which file is read: --config, $IMAGEVET_CONFIG, ./imagevet.yaml.
# --------------------------------------------------------------------------------------------------------


def test_an_empty_config_name_is_refused(tmp_path: Path) -> None:
    settings_file(tmp_path, "audit:\n  fail-on: never\n")
    code, _, err = run_in(tmp_path, "--config=", "audit", HARDENED, AS_OF)
    assert code == 2 and "--config" in one_line_error(err)


def test_config_given_twice_is_not_the_first_silently(tmp_path: Path) -> None:
    (tmp_path / "first.yaml").write_text("format: json\n")
    (tmp_path / "second.yaml").write_text("format: table\n")
    code, out, _ = run_in(tmp_path, "--config", "first.yaml", "lifecycle", AS_OF, "--config", "second.yaml")
    assert code == 2 or not is_json(out)


def test_config_after_double_dash_is_not_a_settings_file(tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text("format: bogus\n")
    code, _, err = run_in(tmp_path, "lifecycle", AS_OF, "--", "--config", "bad.yaml")
    assert code == 2 and "bad.yaml" in one_line_error(err) and "bogus" not in err


@pytest.mark.parametrize("args", [["--config"], ["lifecycle", "--config"], ["lifecycle", AS_OF, "--config"]])
def test_config_without_a_name_is_refused(tmp_path: Path, args: list[str]) -> None:
    code, _, err = run_in(tmp_path, *args)
    assert code == 2 and "--config needs a file name" in one_line_error(err)


@pytest.mark.parametrize(
    "make",
    [
        lambda p: os.mkfifo(p),
        lambda p: p.symlink_to(p),  # a loop
        lambda p: p.symlink_to("/dev/zero"),
        lambda p: p.symlink_to(p.parent / "missing.yaml"),
        lambda p: p.mkdir(),
    ],
    ids=["fifo", "loop", "dev-zero", "dangling", "directory"],
)
@pytest.mark.parametrize("how", ["--config", "IMAGEVET_CONFIG"])
def test_a_named_settings_file_that_is_not_a_regular_file_is_refused_at_once(
    tmp_path: Path, make: Callable[[Path], None], how: str
) -> None:
    path = tmp_path / "named.yaml"
    make(path)
    args, env = (["--config", str(path)], {}) if how == "--config" else ([], {"IMAGEVET_CONFIG": str(path)})
    started = time.monotonic()
    code, _, err = run_in(tmp_path, *args, "lifecycle", AS_OF, timeout=20, **env)
    assert code == 2 and "not a regular file" in one_line_error(err) and how in err
    assert time.monotonic() - started < 10


@pytest.mark.parametrize(
    "make",
    [
        lambda p: p.symlink_to(p.parent / "shared" / "imagevet.yaml"),
        lambda p: p.symlink_to(p),
        lambda p: os.mkfifo(p),
    ],
    ids=["dangling", "loop", "fifo"],
)
def test_a_broken_imagevet_yaml_in_the_working_directory_is_refused(
    tmp_path: Path, make: Callable[[Path], None]
) -> None:
    make(tmp_path / "imagevet.yaml")
    code, _, err = run_in(tmp_path, "lifecycle", AS_OF, timeout=20)
    assert code == 2 and "imagevet.yaml" in one_line_error(err)


# --------------------------------------------------------------------------------------------------------
# Help, version and completion in a checkout with a broken settings file.
# --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("args", [["-h"], ["audit", "-h"], ["db", "update", "--help"], ["--version"]])
def test_help_and_version_work_despite_a_broken_settings_file(tmp_path: Path, args: list[str]) -> None:
    settings_file(tmp_path, "fail_on: medium\n")
    code, out, _ = run_in(tmp_path, *args)
    assert code == 0 and (out.startswith("Usage: imagevet") or out.startswith("imagevet "))


def test_help_works_when_only_a_value_is_bad(tmp_path: Path) -> None:
    settings_file(tmp_path, "format: bogus\n")
    code, out, _ = run_in(tmp_path, "lifecycle", "-h")
    assert code == 0 and out.startswith("Usage: imagevet lifecycle")


def test_completion_works_in_a_checkout_with_a_broken_settings_file(tmp_path: Path) -> None:
    env = {"_IMAGEVET_COMPLETE": "complete_bash", "COMP_WORDS": "imagevet au", "COMP_CWORD": "1"}
    assert "audit" in run_in(tmp_path, **env)[1]
    settings_file(tmp_path, "fail_on: medium\n")
    code, out, err = run_in(tmp_path, **env)
    assert code == 0 and "audit" in out and err == ""


# --------------------------------------------------------------------------------------------------------
# -q and where a bad value is blamed.
# --------------------------------------------------------------------------------------------------------


def test_quiet_alone_is_one_line(tmp_path: Path) -> None:
    code, out, err = run_in(tmp_path, "-q")
    assert code == 2 and out == "" and one_line_error(err)


@pytest.mark.parametrize(
    "args", [["-q", "lifecycle", AS_OF], ["lifecycle", "-q", AS_OF], ["lifecycle", AS_OF, "--quiet"]]
)
def test_quiet_never_swallows_a_settings_error(tmp_path: Path, args: list[str]) -> None:
    settings_file(tmp_path, "quiet: true\nformat: bogus\n")
    code, out, err = run_in(tmp_path, *args)
    assert code == 2 and out == "" and "line 2: --format" in one_line_error(err)


def test_quiet_from_a_file_never_hides_a_gate_setting(tmp_path: Path) -> None:
    path = settings_file(tmp_path, "quiet: true\naudit:\n  fail-on: never\n")
    code, _, err = run_in(tmp_path, "audit", HARDENED, AS_OF)
    assert code == 0 and err.strip() == f"imagevet: settings from {path}: fail-on, quiet"


def test_an_empty_audit_section_is_not_attests_audit_option(tmp_path: Path) -> None:
    assert run_in(tmp_path, "attest", "keygen", "--output-dir", str(tmp_path))[0] == 0
    settings_file(tmp_path, "audit:\n#  fail-on: medium\n")
    code, _, err = run_in(
        tmp_path, "attest", HARDENED, "--image-id", "ami-1", "--key", "imagevet.key", AS_OF, "-o", "e.json"
    )
    assert code == 0, err


def test_a_typed_combined_short_option_is_not_blamed_on_the_file(tmp_path: Path) -> None:
    settings_file(tmp_path, "format: json\n")
    code, _, err = run_in(tmp_path, "lifecycle", AS_OF, "-fxml")
    line = one_line_error(err)
    assert code == 2 and line.startswith("imagevet: error: --format: 'xml'"), line


# --------------------------------------------------------------------------------------------------------
# Hostile files: refused in one line, quickly, in bounded memory, echoing nothing.
# --------------------------------------------------------------------------------------------------------

HOSTILE: dict[str, str | bytes] = {
    "deep-flow": "[" * 100_000 + "]" * 100_000,
    "deep-block": "a:\n" + "".join(" " * (i + 1) + "b:\n" for i in range(300)),
    "deep-sections": "db:\n  update:\n    db:\n      update:\n        timeout: 1\n",
    "billion-laughs": 'a: &a ["lol","lol"]\nb: &b [*a,*a,*a]\nc: &c [*b,*b,*b]\nd: [*c,*c,*c]\n',
    "merge-by-alias": "base: &b {format: json}\n<<: *b\n",
    "self-alias": "a: &a [*a]\n",
    "too-big": "# " + "x" * 300_000 + "\n",
    "binary": bytes(range(256)) * 64,
    "latin-1": "format: caf\xe9\n".encode("latin-1"),
    "utf-16": "format: json\n".encode("utf-16"),
    "nul": b"format: json\x00\n",
    "list-at-top": "- format: json\n",
    "scalar-at-top": "just text\n",
    "multi-document": "format: json\n---\nformat: table\n",
    "python-tag": "format: !!python/object/apply:os.system ['echo pwned']\n",
    "local-tag": f"format: !{SECRET} json\n",
    "tag-directive": "%TAG !e! tag:yaml.org,2002:python/\n---\nformat: !e!name:os.system x\n",
    "binary-scalar": "format: !!binary aGVsbG8=\nfail_on: x\n",
    "duplicate-in-section": "audit:\n  format: json\n  format: table\n",
    "duplicate-section": "db:\n  update: {timeout: 1}\n  update: {timeout: 2}\n",
    "unknown-command-section": "nosuchcommand:\n  format: json\n",
    "section-under-a-leaf": "lifecycle:\n  lifecycle:\n    format: json\n",
    "mapping-value": "format: {json: true}\n",
    "list-value": "format: [json]\n",
    "section-not-a-mapping": "lifecycle: 5\n",
    "complex-key": "? [format]\n: json\n",
    "unterminated": "format: 'json\n",
    "long-unknown-key": SECRET * 20_000 + ": 1\n",
    "help": "lifecycle:\n  help: true\n",
    "version": "version: true\n",
    "install-completion": "install-completion: bash\n",
    "config": "config: other.yaml\n",
}
ERROR_FREE = "format: json\n"


@pytest.mark.parametrize("name", list(HOSTILE))
def test_hostile_settings_files_are_refused_in_one_line(tmp_path: Path, name: str) -> None:
    path = settings_file(tmp_path, HOSTILE[name])
    code, out, err = run_in(tmp_path, "lifecycle", AS_OF, timeout=20)
    assert code == 2 and out == ""
    line = one_line_error(err)
    assert str(path) in line and SECRET not in line and "pwned" not in line and len(line) < 400, line


@pytest.mark.parametrize("name", list(HOSTILE))
def test_hostile_settings_files_are_refused_quickly_in_bounded_memory(tmp_path: Path, name: str) -> None:
    root = build_command()
    path = settings_file(tmp_path, HOSTILE[name])
    tracemalloc.start()
    started = time.perf_counter()
    try:
        with pytest.raises(ImagevetError):  # everything main() does before Click parses
            file = settings_module.read_settings(path, root)
            settings_module.defaults_for(settings_module.command_path(root, ["lifecycle"]), file, {})
    finally:
        elapsed = time.perf_counter() - started
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    assert elapsed < 1.0, f"{elapsed:.2f} s"
    assert peak < 64 * 1024 * 1024, f"{peak // 1024} KiB"


def test_a_file_full_of_merges_is_read_quickly(tmp_path: Path) -> None:
    """No aliases means no bomb: 15,000 inline merge mappings are linear work."""
    path = settings_file(tmp_path, "<<: [" + ",".join(["{<<: {format: json}}"] * 10_000) + "]\n")
    started = time.perf_counter()
    settings_module.read_settings(path, build_command())
    assert time.perf_counter() - started < 2.0


@pytest.mark.parametrize("content", ["", "# only a comment\n", "---\n", "~\n", "%YAML 1.1\n---\n"])
def test_an_empty_settings_file_sets_nothing(tmp_path: Path, content: str) -> None:
    settings_file(tmp_path, content)
    code, out, err = run_in(tmp_path, "lifecycle", AS_OF)
    assert code == 0 and not is_json(out) and "settings from" not in err


def test_a_python_tag_on_a_mapping_is_refused(tmp_path: Path) -> None:
    settings_file(tmp_path, "!!python/object:os.system {format: json}\n")
    code, _, err = run_in(tmp_path, "lifecycle", AS_OF)
    assert code == 2 and "tag" in one_line_error(err)


def test_a_utf8_byte_order_mark_is_accepted(tmp_path: Path) -> None:
    settings_file(tmp_path, b"\xef\xbb\xbfformat: json\n")
    code, out, _ = run_in(tmp_path, "lifecycle", AS_OF)
    assert code == 0 and is_json(out)


def test_variables_named_like_the_root_only_options_do_nothing(tmp_path: Path) -> None:
    """IMAGEVET_HELP, IMAGEVET_VERSION, IMAGEVET_INSTALL_COMPLETION are not settings: the command runs
    as typed and nothing is installed under $HOME."""
    home = tmp_path / "home"
    home.mkdir()
    code, out, err = run_in(
        tmp_path,
        *("lifecycle", AS_OF, "-f", "json"),
        HOME=str(home),
        IMAGEVET_HELP="true",
        IMAGEVET_VERSION="true",
        IMAGEVET_INSTALL_COMPLETION="true",
        IMAGEVET_SHOW_COMPLETION="true",
    )
    assert code == 0 and is_json(out), err
    # Nothing but the knowledge cache (docs/cli.md) is written under $HOME.
    assert sorted(p.relative_to(home).as_posix() for p in home.rglob("*") if not p.is_file()) in (
        [],
        [".cache", ".cache/imagevet", ".cache/imagevet/knowledge"],
    )


def test_a_settings_file_named_by_the_variable_obeys_the_same_rules(tmp_path: Path) -> None:
    victim = tmp_path / "precious.txt"
    victim.write_text("keep me\n")
    named = tmp_path / "ci.yaml"
    named.write_text(f"lifecycle:\n  output: {victim}\n")
    code, _, err = run_in(tmp_path, "lifecycle", AS_OF, IMAGEVET_CONFIG=str(named))
    assert code == 2 and f"{named}: line 2: 'output' cannot be set" in one_line_error(err)
    assert victim.read_text() == "keep me\n"


def test_an_ecosystem_with_a_space_can_be_given_as_a_variable() -> None:
    root = build_command()
    path = settings_module.command_path(root, ["db", "update"])
    defaults = settings_module.defaults_for(path, None, {"IMAGEVET_ECOSYSTEM": "Rocky Linux"})
    assert defaults.default_map["db"]["update"]["ecosystem"] == ["Rocky Linux"]
