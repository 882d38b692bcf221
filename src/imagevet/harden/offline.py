"""Service actions in a remediation, and what they become where no systemd runs (a chroot, an image
build, a container): the hardening outputs must work there, and prove their fixes, as well as on a
booted host.

Three kinds of step touch services:

- running-system steps (`when: running` in checks/<subject>.yaml: service reloads, `sysctl --system`): they
  act on the running daemons and kernel, and in an image there are none (in a chroot, `sysctl --system` would
  even change the build host's kernel). They run only on a system booted with systemd; elsewhere the
  image reads the new configuration at boot, and the output says so;
- unit-file actions (`systemctl [--now] enable|disable|mask|unmask UNIT...`): they must take effect in an
  image too. Without a running systemd they are done on the unit files only, the way systemctl's own
  offline mode does them (`systemctl --root=/`), or where the image has no systemctl, by making the same
  links from the unit's [Install] section; `--now` (start or stop) is left for boot;
- `sshd -t`: it checks the configuration, which matters most in an image (a broken sshd_config makes
  every instance unreachable), but sshd refuses to run without its privilege separation directory, which
  a booted system makes at start (/run/sshd), and without a host key, which an image may not have yet:
  both are provided for the test and removed after.

The shell below is POSIX sh: the bash script and Ansible's /bin/sh both run it (tested with bash and
Debian's dash). Besides the shell it needs only awk, dirname, readlink, stat -L -c, mkdir, ln and rm,
which busybox also has (not tested with busybox here).
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterable
from dataclasses import dataclass

from imagevet.model import RemediationStep

UNIT_VERBS = ("enable", "disable", "mask", "unmask")
_UNIT = re.compile(r"[A-Za-z0-9:_.@-]+\.(service|socket|timer|path|mount|target)")
SSHD_TEST = "sshd -t"


@dataclass(frozen=True)
class UnitAction:
    """`systemctl VERB [--now] UNIT...`: a change of the unit files, which an image build must make too."""

    verb: str
    units: tuple[str, ...]
    now: bool

    @property
    def shell(self) -> str:
        """The call of the offline-aware helper (imagevet_units) that does it."""
        now = "now" if self.now else "-"
        return " ".join(["imagevet_units", self.verb, now, *(shlex.quote(u) for u in self.units)])


def unit_action(command: str) -> UnitAction | None:
    """The unit-file action a command is, or None when it is anything else (a compound command, another
    verb or option, a unit name that is not one): such a command is run as it is."""
    try:
        words = shlex.split(command)
    except ValueError:
        return None
    if len(words) < 3 or words[0] != "systemctl":
        return None
    now = "--now" in words
    rest = [w for w in words[1:] if w != "--now"]
    if not rest or rest[0] not in UNIT_VERBS or len(rest) < 2:
        return None
    units = tuple(rest[1:])
    if not all(_UNIT.fullmatch(u) for u in units):
        return None
    return UnitAction(rest[0], units, now)


def is_sshd_test(command: str) -> bool:
    return command.strip() == SSHD_TEST


# Booted with systemd, as systemd itself decides (sd_booted(): /run/systemd/system), and not a chroot whose
# /run is the host's: PID 1 must see the same root (where /proc/1/root cannot be read, sd_booted() rules).
RUNNING = """\
imagevet_running() {
  [ -d /run/systemd/system ] || return 1
  imagevet_here=$(stat -Lc %d:%i / 2>/dev/null) || return 0
  imagevet_init=$(stat -Lc %d:%i /proc/1/root 2>/dev/null) || return 0
  [ "$imagevet_here" = "$imagevet_init" ]
}
"""

SSHD_TEST_HELPER = """\
# sshd -t, also in an image. sshd insists on its privilege separation directory, which a booted system
# makes at start: where it is missing it is made for the test and removed after. And it refuses to run
# without a host key, which an image may lack (cloud-init makes them at first boot): then a throwaway key
# stands in for the test. The bash script removes both on exit too, when interrupted in between.
# $1, when given: the keyword and value lines (one a line) that the drop-ins of the fix set, which sshd -T
# must print too; an earlier file that sets the keyword first, or a main sshd_config that does not include
# the drop-ins, fails the fix by name instead of leaving it applied. (No quote characters in these comments:
# Ansible splits the shell task that carries them.)
imagevet_sshd_test() {
  imagevet_want=${1-}
  imagevet_keys=
  for imagevet_key in /etc/ssh/ssh_host_*_key; do
    [ ! -e "$imagevet_key" ] || imagevet_keys=1
  done
  set --
  if [ -z "$imagevet_keys" ]; then
    imagevet_key_dir=$(mktemp -d) || return 1
    if ! ssh-keygen -q -t ed25519 -N '' -f "$imagevet_key_dir/host_key" >/dev/null; then
      rm -rf "$imagevet_key_dir"
      imagevet_key_dir=
      return 1
    fi
    set -- -h "$imagevet_key_dir/host_key"
  fi
  imagevet_status=1
  if [ -d /run/sshd ]; then
    imagevet_sshd_check "$@"
    imagevet_status=$?
  else
    imagevet_made_run_sshd=1
    if mkdir /run/sshd; then
      imagevet_sshd_check "$@"
      imagevet_status=$?
      rmdir /run/sshd
    fi
    imagevet_made_run_sshd=
  fi
  if [ -n "${imagevet_key_dir-}" ]; then
    rm -rf "$imagevet_key_dir"
    imagevet_key_dir=
  fi
  return $imagevet_status
}
imagevet_sshd_check() {
  sshd -t "$@" || return 1
  [ -n "$imagevet_want" ] || return 0
  imagevet_got=$(sshd -T "$@") || return 1
  imagevet_ok=0
  while IFS= read -r imagevet_line; do
    if ! printf '%s\\n' "$imagevet_got" | grep -ixF -- "$imagevet_line" >/dev/null; then
      imagevet_used=$(printf '%s\\n' "$imagevet_got" | grep -i -- "^${imagevet_line%% *} ")
      echo "imagevet: sshd does not use '$imagevet_line' (sshd -T: ${imagevet_used:-nothing}):" \\
        "an earlier setting wins, or sshd_config does not include the drop-in" >&2
      imagevet_ok=1
    fi
  done <<IMAGEVET_WANT
$imagevet_want
IMAGEVET_WANT
  return $imagevet_ok
}
"""


def sshd_expectations(contents: Iterable[str]) -> str:
    """The `keyword value` lines of sshd drop-ins that `sshd -T` prints back as written (keyword lower-cased,
    compared without case): one value each, before any Match block. A list edit (`MACs -hmac-md5*`) is left
    out: sshd -T prints the list that results, which the check itself judges."""
    lines: list[str] = []
    for content in contents:
        for raw in content.splitlines():
            words = raw.split("#", 1)[0].split()
            if not words:
                continue
            if words[0].lower() == "match":
                break
            if len(words) == 2 and words[1][:1] not in "+-^":
                lines.append(f"{words[0].lower()} {words[1]}")
    return "\n".join(dict.fromkeys(lines))


def sshd_drop_ins(steps: Iterable[RemediationStep]) -> str:
    """What a fix's sshd drop-ins set, for its sshd test to read back."""
    return sshd_expectations(
        s.text for s in steps if s.kind == "file" and (s.path or "").startswith("/etc/ssh/sshd_config.d/")
    )


def sshd_test_call(expected: str) -> str:
    """The helper's call for a fix whose drop-ins set ``expected`` (sshd_expectations)."""
    return f"imagevet_sshd_test {shlex.quote(expected)}" if expected else "imagevet_sshd_test"


UNITS_HELPER = """\
# The unit file systemctl would use: the first unit directory that has it.
imagevet_unit_file() {
  for imagevet_dir in /etc/systemd/system /run/systemd/system /usr/local/lib/systemd/system \\
      /lib/systemd/system /usr/lib/systemd/system; do
    if [ -f "$imagevet_dir/$1" ] || [ -L "$imagevet_dir/$1" ]; then
      echo "$imagevet_dir/$1"
      return 0
    fi
  done
  return 1
}

# The words of KEY= in FILE's [Install] section, one a line (an empty KEY= resets the list, as in systemd).
imagevet_install() {
  awk -v key="$2" '
    /^[ \\t]*\\[/ { section = $0; gsub(/[ \\t]/, "", section); next }
    section != "[Install]" { next }
    {
      line = $0; sub(/^[ \\t]+/, "", line); eq = index(line, "=")
      if (eq == 0) next
      name = substr(line, 1, eq - 1); sub(/[ \\t]+$/, "", name)
      if (name != key) next
      value = substr(line, eq + 1)
      if (value ~ /^[ \\t]*$/) { count = 0; next }
      n = split(value, words, /[ \\t]+/)
      for (i = 1; i <= n; i++) if (words[i] != "") list[++count] = words[i]
    }
    END { for (i = 1; i <= count; i++) print list[i] }' "$1"
}

# The links (NAME TARGET) that `systemctl enable UNIT` makes under /etc/systemd/system, from its [Install]
# section; a template (name@.service) is enabled as its DefaultInstance, an instance (name@x.service) as
# itself, both linking to the template's file.
imagevet_unit_links() {
  case $1 in
    *@.*) imagevet_template=$1 ;;
    *@*) imagevet_template=${1%%@*}@.${1##*.} ;;
    *) imagevet_template= ;;
  esac
  imagevet_file=$(imagevet_unit_file "${imagevet_template:-$1}") || {
    echo "imagevet: unit $1 not found" >&2
    return 1
  }
  if [ "$(readlink "$imagevet_file")" = /dev/null ]; then
    echo "imagevet: unit $1 is masked" >&2
    return 1
  fi
  imagevet_instance=$1
  if [ "$imagevet_template" = "$1" ]; then
    imagevet_default=$(imagevet_install "$imagevet_file" DefaultInstance)
    if [ -z "$imagevet_default" ]; then
      echo "imagevet: template $1 has no DefaultInstance; name an instance" >&2
      return 1
    fi
    imagevet_instance=${1%%@*}@$imagevet_default.${1##*.}
  fi
  for imagevet_key in WantedBy RequiredBy UpheldBy Alias Also; do
    for imagevet_word in $(imagevet_install "$imagevet_file" "$imagevet_key"); do
      case $imagevet_word in
        *%*)
          echo "imagevet: unit $1 needs systemctl (specifiers in its [Install] section)" >&2
          return 1
          ;;
        .* | *. | *[!A-Za-z0-9:_.@-]*) ;; # a path, not a unit name: never made into a link
        *.*) continue ;;
      esac
      echo "imagevet: unit $1: $imagevet_key= in its [Install] section names something that is not a unit" >&2
      return 1
    done
  done
  imagevet_found=
  for imagevet_pair in WantedBy:wants RequiredBy:requires UpheldBy:upholds; do
    for imagevet_word in $(imagevet_install "$imagevet_file" "${imagevet_pair%%:*}"); do
      echo "$imagevet_word.${imagevet_pair#*:}/$imagevet_instance $imagevet_file"
      imagevet_found=1
    done
  done
  for imagevet_word in $(imagevet_install "$imagevet_file" Alias); do
    echo "$imagevet_word $imagevet_file"
    imagevet_found=1
  done
  [ -n "$imagevet_found" ] || { echo "imagevet: unit $1 has no [Install] section to enable" >&2; return 1; }
}

# systemctl VERB UNIT on the unit files only, as `systemctl --root=/` does it, for an image without
# systemctl: enable makes the [Install] links, disable removes every link to the unit or one of its
# aliases (both follow Also=), mask links the unit to /dev/null, unmask removes that link (or the empty
# file that masks it the other way). Unit names are
# checked by imagevet (offline.py) before they get here.
imagevet_unit_offline() {
  case " ${imagevet_seen-} " in
    *" $1:$2 "*) return 0 ;;
  esac
  imagevet_seen="${imagevet_seen-} $1:$2"
  imagevet_etc=/etc/systemd/system
  imagevet_sysv=/etc/init.d/${2%.service}
  case $1 in
    enable | disable)
      # systemctl keeps the SysV links of a unit with an init script in step first (systemd-sysv-install).
      if [ "$imagevet_sysv" != "/etc/init.d/$2" ] && [ -x "$imagevet_sysv" ] &&
        command -v update-rc.d >/dev/null; then
        _SKIP_SYSTEMD_NATIVE=1 update-rc.d "${2%.service}" defaults >/dev/null 2>&1 &&
          _SKIP_SYSTEMD_NATIVE=1 update-rc.d "${2%.service}" "$1" >/dev/null 2>&1 || return 1
      fi
      ;;
  esac
  case $1 in
    enable)
      imagevet_links=$(imagevet_unit_links "$2") || return 1
      while read -r imagevet_name imagevet_target; do
        imagevet_link=$imagevet_etc/$imagevet_name
        if [ -L "$imagevet_link" ] && [ "$(readlink "$imagevet_link")" = "$imagevet_target" ]; then
          continue
        fi
        if [ -e "$imagevet_link" ] || [ -L "$imagevet_link" ]; then
          echo "imagevet: $imagevet_link exists and is not a link to $imagevet_target" >&2
          return 1
        fi
        mkdir -p "$(dirname "$imagevet_link")" && ln -s "$imagevet_target" "$imagevet_link" || return 1
        echo "imagevet: linked $imagevet_link -> $imagevet_target"
      done <<IMAGEVET_LINKS
$imagevet_links
IMAGEVET_LINKS
      ;;
    disable)
      imagevet_file=$(imagevet_unit_file "$2") || return 0
      [ "$(readlink "$imagevet_file")" != /dev/null ] || return 0 # masked: systemctl ignores it too
      imagevet_names="$2 $(imagevet_install "$imagevet_file" Alias)"
      for imagevet_link in "$imagevet_etc"/* "$imagevet_etc"/*/*; do
        [ -L "$imagevet_link" ] || continue
        imagevet_to=$(readlink "$imagevet_link")
        [ "$imagevet_to" != /dev/null ] || continue
        for imagevet_name in $imagevet_names; do
          if [ "${imagevet_link##*/}" = "$imagevet_name" ] ||
            [ "${imagevet_to##*/}" = "$imagevet_name" ]; then
            rm -f "$imagevet_link" || return 1
            break
          fi
        done
      done
      ;;
    mask)
      imagevet_link=$imagevet_etc/$2
      [ "$(readlink "$imagevet_link" 2>/dev/null)" != /dev/null ] || return 0
      if [ -e "$imagevet_link" ] || [ -L "$imagevet_link" ]; then
        echo "imagevet: $imagevet_link exists; not masked" >&2
        return 1
      fi
      mkdir -p "$imagevet_etc" && ln -s /dev/null "$imagevet_link"
      ;;
    unmask)
      # both masks systemd knows, as systemctl unmask removes them: a link to /dev/null, an empty file
      if [ "$(readlink "$imagevet_etc/$2" 2>/dev/null)" = /dev/null ] ||
        { [ -f "$imagevet_etc/$2" ] && [ ! -L "$imagevet_etc/$2" ] && [ ! -s "$imagevet_etc/$2" ]; }; then
        rm -f "$imagevet_etc/$2"
      fi
      ;;
    *) return 1 ;;
  esac
  case $1 in
    enable | disable)
      imagevet_file=$(imagevet_unit_file "$2") || return 0
      [ "$(readlink "$imagevet_file")" != /dev/null ] || return 0
      for imagevet_also in $(imagevet_install "$imagevet_file" Also); do
        imagevet_unit_offline "$1" "$imagevet_also" || return 1
      done
      ;;
  esac
}

# systemctl VERB [--now] UNIT...: through the running systemd on a booted system; in an image on the unit
# files only (systemctl --root=/, or without systemctl imagevet_unit_offline), the start or stop of
# --now being left for boot.
imagevet_units() {
  imagevet_verb=$1
  imagevet_now=$2
  shift 2
  if imagevet_running; then
    if [ "$imagevet_now" = now ]; then
      systemctl "$imagevet_verb" --now "$@"
    else
      systemctl "$imagevet_verb" "$@"
    fi
    return
  fi
  if command -v systemctl >/dev/null 2>&1; then
    systemctl --root=/ "$imagevet_verb" "$@" || return 1
  else
    imagevet_seen=
    for imagevet_unit in "$@"; do
      imagevet_unit_offline "$imagevet_verb" "$imagevet_unit" || return 1
    done
  fi
  if [ "$imagevet_now" = now ]; then
    echo "imagevet: no running systemd: $imagevet_verb $* done on the unit files; --now is left for boot"
  fi
}
"""
