"""rsyslog's network inputs as rsyslogd reads its configuration (facts/rsyslog.py): both syntaxes, comments,
statements across lines, includes; and what cannot be read is Unknown, never "no listener"."""

from __future__ import annotations

from pathlib import Path

import pytest

from imagevet.facts.rsyslog import MAX_FILES, Rsyslog, gather_rsyslog
from imagevet.model import Unknown
from imagevet.target import RootfsTarget
from tests.conftest import FIXTURES

OVERLAYS = FIXTURES / "cases"


def read(root: Path, files: dict[str, str]) -> Rsyslog | Unknown | None:
    for name, text in files.items():
        path = root / name.lstrip("/")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return gather_rsyslog(RootfsTarget(str(root)))


def listening(found: Rsyslog | Unknown | None) -> list[tuple[str, int]]:
    assert isinstance(found, Rsyslog), found
    return [(item.path, item.line) for item in found.listeners]


def test_debians_own_file_listens_nowhere_and_uncommented_it_does() -> None:
    local = gather_rsyslog(RootfsTarget(str(OVERLAYS / "rsyslog-local")))
    assert isinstance(local, Rsyslog) and local.listeners == ()
    assert local.files == ("/etc/rsyslog.conf", "/etc/rsyslog.d/50-remote.conf")
    found = listening(gather_rsyslog(RootfsTarget(str(OVERLAYS / "rsyslog-listen"))))
    assert found == [
        ("/etc/rsyslog.conf", 16),
        ("/etc/rsyslog.conf", 17),
        ("/etc/rsyslog.d/50-remote.conf", 1),  # the statement across two lines, where it starts
        ("/etc/rsyslog.d/50-remote.conf", 3),
    ]


@pytest.mark.parametrize(
    "text",
    [
        "$ModLoad imtcp\n",
        "  $modload /usr/lib/x86_64-linux-gnu/rsyslog/imudp.so\n",
        "$InputTCPServerRun 514\n",
        "$UDPServerRun 514\n",
        'module(load="imrelp")\n',
        'Module ( Load = "imptcp" )\n',
        'module(\n  load="imtcp"\n)\n',
        'input(port="514" type="imudp")\n',
        'module(load="imuxsock") module(load="imgssapi")\n',
        'module(load="imtcp" # a comment that says load="imuxsock"\n)\n',
        'template(name="t" type="string" string="x) module(load=imtcp")\nmodule(load="imtcp")\n',
    ],
)
def test_each_way_of_starting_a_network_input_is_found(tmp_path: Path, text: str) -> None:
    assert len(listening(read(tmp_path, {"/etc/rsyslog.conf": text}))) == 1


@pytest.mark.parametrize(
    "text",
    [
        '#module(load="imtcp")\n',
        "# $ModLoad imtcp\n",
        '/* module(load="imtcp")\n input(type="imtcp" port="514") */\n',
        'module(load="imuxsock")\nmodule(load="imjournal" StateFile="imjournal.state")\n',
        'template(name="t" type="string" string="module(load=\\"imtcp\\")")\n',
        "*.* @@logs.example.com:514\n",  # forwarding to a server, not listening
    ],
)
def test_comments_strings_and_forwarding_are_no_input(tmp_path: Path, text: str) -> None:
    assert listening(read(tmp_path, {"/etc/rsyslog.conf": text})) == []


def test_includes_are_followed_in_both_syntaxes(tmp_path: Path) -> None:
    found = read(
        tmp_path,
        {
            "/etc/rsyslog.conf": (
                '$IncludeConfig /etc/rsyslog.d/\ninclude(file="/etc/site/*.conf" mode="optional")\n'
            ),
            "/etc/rsyslog.d/10-a.conf": "$ModLoad imudp\n",
            "/etc/site/20-b.conf": "$IncludeConfig /etc/site/deeper/*.conf\n",
            "/etc/site/deeper/x.conf": 'input(type="imtcp" port="10514")\n',
            "/etc/site/deeper/x.other": 'input(type="imtcp" port="1")\n',  # not matched by the pattern
        },
    )
    assert listening(found) == [("/etc/rsyslog.d/10-a.conf", 1), ("/etc/site/deeper/x.conf", 1)]


def test_a_file_that_includes_itself_is_read_once(tmp_path: Path) -> None:
    found = read(tmp_path, {"/etc/rsyslog.conf": "$IncludeConfig /etc/rsyslog.conf\n$ModLoad imtcp\n"})
    assert listening(found) == [("/etc/rsyslog.conf", 2)]


@pytest.mark.parametrize(
    ("files", "reason"),
    [
        ({"/etc/rsyslog.conf": 'module(load="imtcp"\n'}, "never ends"),
        ({"/etc/rsyslog.conf": 'template(name="t" string="x)\n'}, "never ends"),
        ({"/etc/rsyslog.conf": "/* left open\n"}, "never ends"),
        ({"/etc/rsyslog.conf": 'include(text=`echo module(load="imtcp")`)\n'}, "include(text=...)"),
        ({"/etc/rsyslog.conf": "$IncludeConfig /etc/rsyslog.d/*.conf\n", "/etc/rsyslog.d/a.conf": ""}, None),
    ],
)
def test_what_cannot_be_read_as_rsyslogd_reads_it_is_unknown(
    tmp_path: Path, files: dict[str, str], reason: str | None
) -> None:
    if reason is None:  # an included file that cannot be read: binary
        read(tmp_path, files)
        (tmp_path / "etc/rsyslog.d/a.conf").write_bytes(b"\xff\xfe\x00binary")
        found = gather_rsyslog(RootfsTarget(str(tmp_path)))
        assert isinstance(found, Unknown) and "/etc/rsyslog.d/a.conf" in found.reason
        return
    found = read(tmp_path, files)
    assert isinstance(found, Unknown) and reason in found.reason and "/etc/rsyslog.conf" in found.reason


def test_too_many_included_files_is_unknown(tmp_path: Path) -> None:
    files = {"/etc/rsyslog.conf": "$IncludeConfig /etc/rsyslog.d/*.conf\n"}
    files |= {f"/etc/rsyslog.d/{n:04}.conf": "" for n in range(MAX_FILES + 1)}
    found = read(tmp_path, files)
    assert isinstance(found, Unknown) and "more than" in found.reason


def test_no_rsyslog_conf_is_none(tmp_path: Path) -> None:
    assert read(tmp_path, {}) is None


# What the red-team of session 29 hid inputs behind (each listened under a real rsyslogd while the first
# reader said "no input"): now each is found, or is Unknown (an error, never a pass).
HIDDEN = {
    "a comment with a parenthesis in the object": ('module(/* ) */ load="imtcp")\n', "found"),
    "octal escapes": ('module(load="im\\164cp")\n', "found"),
    "a backtick value": ("module(load=`echo imtcp`)\n", "unknown"),
    "a directive after an object": ('module(load="immark") $ModLoad imtcp\n', "unknown"),
    "a quote in a legacy action": (
        "*.* /var/log/don't.log\nmodule(load=\"imtcp\")\n*.* /var/log/won't.log\n",
        "found",
    ),
    "a glued statement": ('ruleset(name="r"){stop}input(type="imtcp" port="514")\n', "unknown"),
    "a junk character": (';module(load="imtcp")\n', "unknown"),
    "a name far from its parenthesis": ("module" + "\n" * 70 + '(load="imtcp")\n', "unknown"),
    "a multi-line if": ('if $programname == "a" or\n$msg contains "b" then { stop }\n', "unknown"),
    "an include without its path": ("$IncludeConfig\n/etc/hidden.conf\n", "unknown"),
    "an include directive by its prefix": ("$IncludeConfigs /etc/hidden.conf\n", "found"),
    "a network module beyond the usual five": ('module(load="imczmq")\n', "found"),
    "an input module not known": ('module(load="imsomething")\n', "unknown"),
    "a path to the module": ('module(load="/usr/lib/x86_64-linux-gnu/rsyslog/imtcp.so")\n', "found"),
    "an object name with no parenthesis after an object": ('module(load="imuxsock") input\n', "unknown"),
    "the parenthesis on the next line": ('module(load="imuxsock") module\n(load="imtcp")\n', "unknown"),
}


@pytest.mark.parametrize("case", list(HIDDEN))
def test_what_the_red_team_hid_an_input_behind(tmp_path: Path, case: str) -> None:
    text, expected = HIDDEN[case]
    found = read(
        tmp_path, {"/etc/rsyslog.conf": text, "/etc/hidden.conf": 'input(type="imtcp" port="514")\n'}
    )
    if expected == "unknown":
        assert isinstance(found, Unknown), found
    else:
        assert isinstance(found, Rsyslog) and found.listeners, found


def test_a_directory_included_without_a_slash_and_one_a_glob_matches_are_read_through(tmp_path: Path) -> None:
    found = read(
        tmp_path,
        {
            "/etc/rsyslog.conf": "$IncludeConfig /etc/rsyslog.e\n$IncludeConfig /etc/rsyslog.f/*\n",
            "/etc/rsyslog.e/x": "$ModLoad imudp\n",
            "/etc/rsyslog.e/.hidden": "$ModLoad imtcp\n",  # rsyslogd passes over hidden files
            "/etc/rsyslog.f/sub/x.conf": 'input(type="imtcp" port="514")\n',
        },
    )
    assert listening(found) == [("/etc/rsyslog.e/x", 1), ("/etc/rsyslog.f/sub/x.conf", 1)]


def test_a_long_object_is_read_in_linear_time(tmp_path: Path) -> None:
    """The first reader's parameter pattern took 14 s on 40 KB (the red-team): 4 MB must take well under
    a second or two."""
    import time

    text = 'module(load="immark" /* ' + "a" * 3_000_000 + " */)\n"
    started = time.perf_counter()
    assert listening(read(tmp_path, {"/etc/rsyslog.conf": text})) == []
    assert time.perf_counter() - started < 5


def test_red_hats_shape_of_the_file_is_read(tmp_path: Path) -> None:
    """RHEL 9's rsyslog.conf shape: objects across lines with comments between parameters, dotted names."""
    text = (
        'global(workDirectory="/var/lib/rsyslog")\n'
        'module(load="builtin:omfile" Template="RSYSLOG_TraditionalFileFormat")\n'
        'include(file="/etc/rsyslog.d/*.conf" mode="optional")\n'
        'module(load="imuxsock"    # provides support for local system logging\n'
        '       SysSock.Use="off") # Turn off message reception via local log socket;\n'
        'module(load="imjournal" UsePid="system" StateFile="imjournal.state")\n'
        "*.info;mail.none;authpriv.none;cron.none                /var/log/messages\n"
        "*.emerg                                                 :omusrmsg:*\n"
        "uucp,news.crit                                          /var/log/spooler\n"
        '#*.* action(type="omfwd" target="192.0.2.1" port="514" protocol="tcp")\n'
        ':programname, isequal, "x" /var/log/x.log\n& stop\n'
    )
    assert listening(read(tmp_path, {"/etc/rsyslog.conf": text})) == []
