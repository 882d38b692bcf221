"""Fleet inventories as users and attackers write them: plain lists, Ansible INI and Ansible YAML.

Every inventory here is written by hand in the shape Ansible documents (groups, ``:vars``,
``:children``, ``hosts``/``vars``/``children``), then broken the ways a user or an attacker would:
bad ports, spaces and control characters in names, wrong YAML types, ten thousand nested groups,
self-containing groups, alias bombs. A refusal is one line naming the file and the line, never quoting
it. Hypothesis builds random inventories in all three formats: a parse is a host list or an
InventoryError, never another exception.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from imagevet.fleet import InventoryError, parse_inventory
from tests.conftest import AS_OF_DATE, FIXTURES
from tests.support.cli import run_imagevet

MARK = "ZQ"  # in hostile values; never in imagevet's own messages
HARDENED = str(FIXTURES / "rootfs/hardened-debian")


def specs(text: str, name: str = "hosts.txt") -> list[str]:
    return [host.spec for host in parse_inventory(text, name)]


def refusal(text: str, name: str = "hosts.txt") -> str:
    with pytest.raises(InventoryError) as caught:
        parse_inventory(text, name)
    message = str(caught.value)
    assert message.startswith(f"{name}: ") and "\n" not in message and MARK not in message, message
    return message


# ----------------------------------------------------------------------------- plain lists


def test_a_plain_list_takes_user_host_port_lines() -> None:
    text = (
        "# web tier\n"
        "root@10.0.0.1:2222\n"
        "deploy@web1.example.com\n"
        "web2:22\n"
        "ssh://ops@db1:2200/\n"
        "root@[fe80::1%eth0]:2222\n"
        "[2001:db8::5]\n"
        "2001:db8::6\n"
        "/srv/images/rootfs\n"
        "./rootfs\n"
        "tar:/srv/images/web.tar.gz\n"
    )
    assert specs(text) == [
        "ssh://root@10.0.0.1:2222",
        "ssh://deploy@web1.example.com",
        "ssh://web2:22",
        "ssh://ops@db1:2200",
        "ssh://root@[fe80::1%eth0]:2222",
        "ssh://[2001:db8::5]",
        "ssh://[2001:db8::6]",
        "/srv/images/rootfs",
        "./rootfs",
        "tar:/srv/images/web.tar.gz",
    ]
    assert parse_inventory("root@10.0.0.1:2222\n", "hosts.txt")[0].name == "root@10.0.0.1:2222"


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("web1\nroot@ZQ:99999\n", "hosts.txt: line 2: the port must be a number from 1 to 65535"),
        ("root@ZQ:0\n", "line 1: the port must be a number"),
        ("root@ZQ:22a\n", "line 1: the port must be a number"),
        ("root@ZQ:\u0662\u0662\n", "line 1: the port must be a number"),
        ("root@ZQ:" + "9" * 4000 + "\n", "line 1: the port must be a number"),
        ("ssh://u@ZQ:65536\n", "line 1: the port must be a number"),
        ("\n\nweb1 ZQ\n", "line 3: not a target (one per line, without spaces or control characters)"),
        ("ZQ\x1b[31m\n", "line 1: not a target"),
        ("ZQ\u202e\n", "line 1: not a target"),
        ("r oot@ZQ\n", "line 1: not a target"),
        ("ZQ/images/x.tar\n", "line 1: not a host name or address"),
        ("ro:ot@ZQ:22:1\n", "line 1: the user must be a login name"),
        ("@ZQ\n", "line 1: the user must be a login name"),
        ("u@[ZQ]:22\n", "line 1: only an IPv6 address goes in brackets"),
        ("u@[::1]ZQ\n", "line 1: an IPv6 address in brackets must be"),
        ("ZQ[01:50].example.com\n", "line 1: host ranges such as web[01:50] are not supported"),
        ("# nothing\n\n", "hosts.txt: names no host"),
    ],
)
def test_a_plain_list_refuses_what_is_not_a_target(text: str, fragment: str) -> None:
    assert fragment in refusal(text)


# ----------------------------------------------------------------------------- Ansible INI

INI = """\
# Ansible INI inventory, as docs.ansible.com "How to build your inventory" shows it
[web]
web1 ansible_host=10.0.0.5 ansible_port=2222
web2:2200
web3 ansible_user="admin"  # inline comment

[db]
db1 ansible_ssh_host=10.0.0.9 ansible_ssh_port=2022

[prod:children]
web
db

[prod:vars]
ansible_user=deploy

[web:vars]
ansible_user=webops

[all:vars]
ansible_user=nobody
ansible_port=22
"""


def test_ini_groups_children_and_vars_nearest_first() -> None:
    assert specs(INI, "inventory.ini") == [
        "ssh://webops@10.0.0.5:2222",  # [web:vars] beats [prod:vars] beats [all:vars]; host vars beat all
        "ssh://webops@web2:2200",
        "ssh://admin@web3:22",
        "ssh://deploy@10.0.0.9:2022",
    ]


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("[web]\nweb1 ansible_port=ZQ\n", "inventory: line 2: the port must be a number"),
        ("[web:vars]\nansible_port=99999\n[web]\nw1\n", "line 2: the port must be a number"),
        ("[web]\nw1\n[web:vars]\nZQ\n", "line 4: a [group:vars] line must be key=value"),
        ("[web]\nw1\n[web:vars]\nZQ ZQ=1\n", "line 4: a [group:vars] line must be key=value"),
        ("[web:ZQ]\nw1\n", "line 1: not a section header"),
        ("[w ZQ]\nw1 a=1\n", "line 1: not a section header"),
        ("[p:children]\nZQ ZQ\n[web]\nw1 a=1\n", "line 2: a [group:children] line must be one group name"),
        ("[web]\nw1 ZQ\n", "line 2: after the host, each word must be key=value"),
        ("[web]\nw1 'ZQ\n", "line 2: unbalanced quotes"),
        ("[web]\nroot@ZQ\n", "line 2: put the login name in ansible_user"),
        ("[web]\nw1 ansible_user=ZQ@x\n", "line 2: the user must be a login name"),
        ("[web]\nw1 ansible_host=ZQ/x\n", "line 2: not a host name or address"),
        ("[web]\nZQ[01:99]\n", "line 2: host ranges"),
    ],
)
def test_ini_refusals_name_the_line(text: str, fragment: str) -> None:
    assert fragment in refusal(text, "inventory")


def test_ini_nesting_and_cycles_are_bounded() -> None:
    chain = "".join(f"[g{i}:children]\ng{i + 1}\n" for i in range(10_000)) + "[g10000]\nh1\n"
    started = time.monotonic()
    assert "line 20001: groups nest deeper than 30 levels" in refusal(chain + "[g0:vars]\na=1\n", "inv")
    assert time.monotonic() - started < 1
    cycle = "[a:children]\nb\n[b:children]\na\n[a]\nh1\n[b:vars]\nansible_user=ops\n"
    assert specs(cycle, "inv") == ["ssh://ops@h1"]


# ----------------------------------------------------------------------------- Ansible YAML

YAML = """\
# Ansible YAML inventory, as docs.ansible.com "How to build your inventory" shows it
all:
  vars:
    ansible_user: ops
  hosts:
    bastion.example.com:
  children:
    webservers:
      vars:
        ansible_port: 2222
      hosts:
        web1:
          ansible_host: 10.0.0.5
        web2:2200:
    dbservers:
      hosts:
        db1: &db
          ansible_host: "2001:db8::9"
          ansible_user: postgres
        db2:
          <<: *db
          ansible_host: 10.0.0.10
extra:
  hosts:
    solo:
"""


def test_yaml_groups_vars_merges_and_top_level_groups() -> None:
    assert specs(YAML, "inventory.yml") == [
        "ssh://ops@bastion.example.com",
        "ssh://ops@10.0.0.5:2222",
        "ssh://ops@web2:2200",  # as in Ansible, the name's :2200 is a host variable: it beats the group's
        "ssh://postgres@[2001:db8::9]",
        "ssh://postgres@10.0.0.10",
        "ssh://ops@solo",  # a top-level group inherits all's vars, as in Ansible
    ]
    assert specs("all:\n  hosts: {w1: }\n", "hosts") == ["ssh://w1"]  # YAML by content


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("all:\n  hosts: [ZQ, b]\n", "inv.yaml: line 2: hosts (host names as keys) must be a mapping"),
        ("all:\n  vars: ZQ\n", "line 2: vars must be a mapping"),
        ("all:\n  hosts:\n    a: ZQ\n", "line 3: host variables must be a mapping"),
        ("all:\n  children: [ZQ]\n", "line 2: children (group names as keys) must be a mapping"),
        ("all:\n  children:\n    web: [ZQ]\n", "line 3: a group must be a mapping"),
        ("all:\n  hostz:\n    ZQ:\n", "line 2: a group has only hosts, vars and children"),
        ("all:\n  hosts:\n    a: {ansible_port: 70000}\n", "line 3: ansible_port: the port must be a number"),
        ("all:\n  hosts:\n    a: {ansible_port: [22]}\n", "line 3: ansible_port must be a single value"),
        (
            "all:\n  hosts:\n    a: {ansible_user: 12}\n",
            "line 3: ansible_user: the user must be a login name",
        ),
        (
            "all:\n  hosts:\n    a: {ansible_host: ZQ ZQ}\n",
            "line 3: ansible_host: not a host name or address",
        ),
        ("all:\n  hosts:\n    'ZQ ZQ':\n", "line 3: not a target"),
        (
            "all:\n  hosts:\n    a:\n    a:\n",
            "line 4: hosts (host names as keys): duplicate key (first given on line 3)",
        ),
        ("- ZQ\n", "line 1: a YAML inventory must be a mapping of groups"),
        ("all: [\n", "not valid YAML"),
        ("all:\n  hosts:\n    \x07ZQ:\n", "line 3: contains a character YAML does not allow"),
    ],
)
def test_yaml_wrong_types_name_the_line(text: str, fragment: str) -> None:
    assert fragment in refusal(text, "inv.yaml")


def test_yaml_depth_self_containing_groups_and_alias_bombs_are_bounded() -> None:
    started = time.monotonic()
    deep = "all:\n" + "".join(
        "  " * (2 * i + 1) + "children:\n" + "  " * (2 * i + 2) + f"g{i}:\n" for i in range(40)
    )
    assert "nested deeper than 64 levels" in refusal(deep, "inv.yaml")
    very_deep = "all:\n  children:\n" + "    " + "{g: {children: " * 10_000 + "}}" * 10_000 + "\n"
    assert "not valid YAML" in refusal(very_deep, "inv.yaml")
    itself = "all: &g\n  hosts: {a: }\n  children: {again: *g}\n"
    assert "line 1: a group contains itself (through an alias)" in refusal(itself, "inv.yaml")
    # Nine aliases per level, eleven levels: 9**11 paths to one host. Each group is walked once per set
    # of inherited variables, so this costs a few dozen steps and names one host.
    bomb = "all:\n  children:\n    g0: &g0 {hosts: {h: }}\n" + "".join(
        f"    g{i}: &g{i} {{children: {{{', '.join(f'c{j}: *g{i - 1}' for j in range(9))}}}}}\n"
        for i in range(1, 12)
    )
    assert specs(bomb, "inv.yaml") == ["ssh://h"]
    # A thousand hosts behind one anchor, reached from 600 groups with different ports: refused by the
    # entry budget, not walked 600,000 times.
    many = "{" + ", ".join(f"h{i}: " for i in range(1000)) + "}"
    groups = "".join(f"    g{j}: {{vars: {{ansible_port: {j + 1}}}, hosts: *h}}\n" for j in range(600))
    wide = f"all:\n  hosts: &h {many}\n  children:\n{groups}"
    assert "line 2: too large: more than 300000 entries once aliases expand" in refusal(wide, "inv.yaml")
    assert time.monotonic() - started < 3


def test_size_and_host_count_are_bounded() -> None:
    assert "larger than 2 MiB" in refusal("#" * (2 * 1024 * 1024 + 1), "hosts.txt")
    many = "".join(f"h{i}\n" for i in range(50_001))
    assert "more than 50000 hosts" in refusal(many, "hosts.txt")
    started = time.monotonic()
    assert len(specs("".join(f"root@10.0.{i // 250}.{i % 250}:22\n" for i in range(20_000)))) == 20_000
    assert time.monotonic() - started < 5


# ----------------------------------------------------------------------------- fuzz

FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
words = st.text(st.sampled_from("abz09.-_:@[]/ %=\"'#;\t\u0663\x1b"), max_size=12)


def _parse(text: str, name: str) -> None:
    try:
        hosts = parse_inventory(text, name)
    except InventoryError as exc:
        message = str(exc)
        assert message.startswith(name) and "\n" not in message and len(message) < 300, message
        return
    assert hosts and all(h.spec for h in hosts)


@FUZZ
@given(st.lists(words, max_size=8), st.sampled_from(["hosts.txt", "inventory.ini", "inv.yaml"]))
def test_fuzz_lines_in_every_format(lines: list[str], name: str) -> None:
    _parse("\n".join(lines), name)


@FUZZ
@given(
    st.lists(
        st.one_of(
            words.map(lambda w: f"[{w}]"),
            words.map(lambda w: f"[{w}:vars]"),
            words.map(lambda w: f"[{w}:children]"),
            st.tuples(words, words, words).map(lambda t: f"{t[0]} ansible_{t[1]}={t[2]}"),
            words,
        ),
        max_size=10,
    )
)
def test_fuzz_ini_inventories(lines: list[str]) -> None:
    _parse("\n".join(lines) + "\n", "inventory.ini")


yaml_values = st.recursive(
    st.none() | st.booleans() | st.integers() | words,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(
            st.sampled_from(
                ["hosts", "vars", "children", "all", "ansible_host", "ansible_port", "ansible_user"]
            )
            | words,
            inner,
            max_size=4,
        )
    ),
    max_leaves=25,
)


@FUZZ
@given(yaml_values)
def test_fuzz_yaml_inventories(document: object) -> None:
    _parse(yaml.safe_dump({"all": document}), "inv.yaml")
    _parse(yaml.safe_dump(document), "inv.yml")


# ----------------------------------------------------------------------------- the CLI, as a user runs it


@pytest.mark.parametrize(
    ("name", "content", "fragment"),
    [
        (
            "hosts.txt",
            "web1\nroot@ZQ:99999\n",
            "hosts.txt: line 2: the port must be a number from 1 to 65535",
        ),
        ("hosts.txt", "web1 ZQ\n", "hosts.txt: line 1: not a target"),
        ("inventory.ini", "[web]\nw1 ansible_port=ZQ\n", "inventory.ini: line 2: the port must be a number"),
        (
            "inventory.yml",
            "all:\n  hosts: [ZQ]\n",
            "inventory.yml: line 2: hosts (host names as keys) must be a mapping",
        ),
        (
            "inventory.yml",
            "all:\n  vars: ZQ\n  hosts: {a: }\n",
            "inventory.yml: line 2: vars must be a mapping",
        ),
        (
            "inventory.yml",
            "all:\n  children:\n    " + "{g: {children: " * 10_000 + "}}" * 10_000 + "\n",
            "inventory.yml: line 3: not valid YAML",
        ),
        (
            "inventory.yml",
            "all: &g\n  hosts: {ZQ: }\n  children: {x: *g}\n",
            "inventory.yml: line 1: a group contains itself",
        ),
        (
            "inventory.ini",
            "".join(f"[g{i}:children]\ng{i + 1}\n" for i in range(10_000)) + "[g10000]\nZQ\n",
            "inventory.ini: line 20001: groups nest deeper than 30 levels",
        ),
    ],
)
def test_audit_refuses_a_bad_inventory_in_one_line(
    tmp_path: Path, name: str, content: str, fragment: str
) -> None:
    path = tmp_path / name
    path.write_text(content)
    started = time.monotonic()
    proc = run_imagevet("audit", "--inventory", str(path), "--as-of", AS_OF_DATE)
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("imagevet: error:"), proc.stderr
    assert fragment in lines[0] and MARK not in proc.stderr and "Traceback" not in proc.stderr, lines[0]
    assert proc.stdout == "" and time.monotonic() - started < 20


def test_audit_runs_a_plain_list_with_user_host_port_lines(tmp_path: Path) -> None:
    inventory = tmp_path / "hosts.txt"
    inventory.write_text(f"{HARDENED}\nroot@127.0.0.1:1\n")  # port 1: nothing listens, refused at once
    proc = run_imagevet(
        "audit", "--inventory", str(inventory), "-f", "json", "--timeout", "5", "--as-of", AS_OF_DATE
    )
    assert proc.returncode == 2, proc.stderr  # one host could not be audited
    document = json.loads(proc.stdout)
    assert [h["target"] for h in document["hosts"]] == [HARDENED, "ssh://root@127.0.0.1:1"]
    assert [h["status"] for h in document["hosts"]] == ["audited", "error"]


def test_remote_disk_images_are_fleet_targets_and_urls_hide_their_signature() -> None:
    hosts = parse_inventory(
        "ami:ami-0123456789abcdef0\nhttps://u:p@mirror.example/noble.qcow2?sig=SECRET\n"
        "disk:https://mirror.example/a.vhd?X-Amz-Signature=SECRET\n",
        "hosts.txt",
    )
    assert [(h.name, h.spec) for h in hosts] == [
        ("ami:ami-0123456789abcdef0", "ami:ami-0123456789abcdef0"),
        ("https://mirror.example/noble.qcow2?…", "https://u:p@mirror.example/noble.qcow2?sig=SECRET"),
        ("disk:https://mirror.example/a.vhd?…", "disk:https://mirror.example/a.vhd?X-Amz-Signature=SECRET"),
    ]
    two = parse_inventory("https://h/get?file=a&sig=S1\nhttps://h/get?file=b&sig=S2\n", "hosts.txt")
    assert [h.name for h in two] == ["https://h/get?file=a&…", "https://h/get?file=b&…"]
