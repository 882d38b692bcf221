"""The plan as a bash script that works where images are built (a chroot, a build VM, a container: no
running systemd) as well as on a booted host:

- files are replaced only when their content differs, by renaming a complete copy over them, so an
  interrupted run (SIGINT, SIGTERM, SIGHUP) leaves each file as it was or as it should be, and the
  script's own temporary files are removed on exit;
- commands are the checks' own idempotent fixes; unit-file actions (systemctl enable, disable, mask,
  unmask) and `sshd -t` take effect offline too (harden/offline.py);
- running-system steps (service reloads, `sysctl --system`) run once each, after the fixes, and only on
  a system booted with systemd; elsewhere the script names each one it left for boot;
- before it says "hardening applied", it reads back every file it was to write and compares its SHA-256
  with the content rendered here: a step that reported success without doing its work (a program that
  exits 0 having done nothing; bash itself, which now and then carries on past a Ctrl-C sent to the
  whole process group) is then a failure, never a silent pass;
- a fix that fails is named, the others still run, and the script exits 1; it exits 0 otherwise."""

from __future__ import annotations

import hashlib
import shlex

from imagevet.harden.offline import (
    RUNNING,
    SSHD_TEST_HELPER,
    UNITS_HELPER,
    is_sshd_test,
    sshd_drop_ins,
    sshd_test_call,
    unit_action,
)
from imagevet.harden.plan import Plan, file_mode
from imagevet.model import RemediationStep

PRELUDE = """\
set -uo pipefail

# Temporary files of this run (one prefix per file written), and the /run/sshd and throwaway host key made
# for `sshd -t`: removed on exit, also when the run is interrupted.
imagevet_partial=()
imagevet_made_run_sshd=
imagevet_key_dir=
imagevet_cleanup() {
  local prefix
  for prefix in ${imagevet_partial[@]+"${imagevet_partial[@]}"}; do
    rm -f "$prefix"*
  done
  [ -z "$imagevet_made_run_sshd" ] || rmdir /run/sshd 2>/dev/null
  [ -z "$imagevet_key_dir" ] || rm -rf "$imagevet_key_dir"
}
trap imagevet_cleanup EXIT
# The first signal ends the run; later ones are ignored, so that the cleanup runs to its end. (bash 5.2 was
# seen spinning in its own SIGINT handler once in ~730 interrupted runs before; in none of 4,000 since.)
imagevet_stop() {
  trap '' HUP INT TERM
  exit "$1"
}
trap 'imagevet_stop 129' HUP
trap 'imagevet_stop 130' INT
trap 'imagevet_stop 143' TERM

# Write stdin to PATH with MODE, owned by root, only when the content differs (so a second run changes
# nothing); the complete new file is renamed into place, so no reader (and no interrupted run) sees half
# of it. Only a regular file is replaced: a link or a directory at PATH is a failure, not a target.
imagevet_write() {
  local path=$1 mode=$2 tmp directory=.
  if [ -L "$path" ] || { [ -e "$path" ] && [ ! -f "$path" ]; }; then
    echo "imagevet: $path is not a regular file; left as it is" >&2
    return 1
  fi
  case $path in */*) directory=${path%/*} ;; esac  # dirname's answer, without a command substitution
  mkdir -p "${directory:-/}" || return 1
  imagevet_partial+=("$path.imagevet-$$.")
  tmp=$(mktemp "$path.imagevet-$$.XXXXXX") || return 1
  if ! cat >"$tmp"; then
    rm -f "$tmp"
    return 1
  fi
  if [ -f "$path" ] && cmp -s "$tmp" "$path"; then
    rm -f "$tmp"
  elif chmod "$mode" "$tmp" && mv -f "$tmp" "$path"; then
    echo "imagevet: wrote $path"
  else
    rm -f "$tmp"
    return 1
  fi
}
"""

FIXES = """\
# Each check's fix is a function; one that fails is reported and the others still run.
imagevet_failed=()
imagevet_fix=
imagevet_fail() {
  case " ${imagevet_failed[*]-} " in
    *" $1 "*) ;;
    *) imagevet_failed+=("$1") ;;
  esac
}
imagevet_apply() {
  imagevet_fix=$1
  if ! "$2"; then
    echo "imagevet: the fix for $1 failed" >&2
    imagevet_fail "$1"
  fi
}

# The files the fixes wrote, read back at the end: each must hold what its fix wrote (the SHA-256 of the
# content rendered into this script). A fix that already failed is not checked again.
imagevet_verify() {
  local fix=$1 path=$2 want=$3 got
  case " ${imagevet_failed[*]-} " in *" $fix "*) return 0 ;; esac
  got=$(sha256sum 2>/dev/null <"$path") && [ "${got%% *}" = "$want" ] && return 0
  echo "imagevet: $path does not hold what the fix for $fix wrote" >&2
  imagevet_fail "$fix"
}

# Running-system steps the fixes ask for (service reloads, sysctl --system) run once each, after all the
# fixes, on a system booted with systemd. In an image there is nothing running to reload (and in a chroot
# sysctl --system would change the build host's kernel): the image reads the new configuration at boot.
declare -A imagevet_asked=()
imagevet_later() { imagevet_asked[$1]+=" $imagevet_fix"; }
imagevet_run_later() {
  local number=$1 text=$2 fixes=${imagevet_asked[$1]-} fix
  [ -n "$fixes" ] || return 0
  if ! imagevet_running; then
    echo "imagevet: no running systemd (an image or a chroot): left for boot: $text (for$fixes)"
  elif ! "imagevet_step_$number"; then
    echo "imagevet: $text failed (for$fixes)" >&2
    for fix in $fixes; do
      imagevet_fail "$fix"
    done
  fi
}
"""


def _delimiter(content: str) -> str:
    delimiter = "IMAGEVET_EOF"
    while delimiter in content.splitlines():
        delimiter += "_"
    return delimiter


def _file_content(step: RemediationStep) -> str:
    """What a file step writes: its text, ending with a newline (the here-document needs one)."""
    return step.text if step.text.endswith("\n") else step.text + "\n"


def _function(check: str) -> str:
    return "fix_" + check.replace("-", "_")


def running_steps(plan: Plan) -> list[str]:
    """The distinct running-system commands of the plan, in the order the fixes first ask for them."""
    commands: list[str] = []
    for fix in plan.fixes:
        for step in fix.steps:
            if step.kind == "command" and step.when == "running" and step.text not in commands:
                commands.append(step.text)
    return commands


def _step_lines(step: RemediationStep, later: list[str], sshd_expected: str = "") -> list[str]:
    if step.kind == "file" and step.path:
        content = _file_content(step)
        delimiter = _delimiter(content)
        write = f"imagevet_write {shlex.quote(step.path)} {file_mode(step.path)}"
        return [f"  {write} <<'{delimiter}' || return 1\n{content}{delimiter}"]
    if step.kind == "command" and step.when == "running":
        return [f"  imagevet_later {later.index(step.text) + 1}"]
    if step.kind == "command":
        action = unit_action(step.text)
        if action is not None:
            return [f"  {action.shell} || return 1"]
        if is_sshd_test(step.text):
            return [f"  {sshd_test_call(sshd_expected)} || return 1"]
        return [f"  {{ {step.text}; }} || return 1"]
    return [f"  # manual: {line}" for line in step.text.splitlines()]


def _verify_lines(plan: Plan) -> list[str]:
    """One read-back per file written, with what the last step writing it wrote (a later fix may write the
    same file again: that content is the one that stays)."""
    last: dict[str, tuple[str, str]] = {}
    for fix in plan.fixes:
        for step in fix.steps:
            if step.kind == "file" and step.path:
                digest = hashlib.sha256(_file_content(step).encode()).hexdigest()
                last[step.path] = (fix.check, digest)
    return [f"imagevet_verify {check} {shlex.quote(path)} {digest}" for path, (check, digest) in last.items()]


def render_bash(plan: Plan) -> str:
    later = running_steps(plan)
    out = [
        "#!/usr/bin/env bash",
        f"# {plan.headline}",
        "# Idempotent: a second run changes nothing. Run as root in the image (chroot, build VM) or a host;",
        "# without a running systemd, units are enabled on their files and reloads are left for boot.",
        "# Exit 1 when a fix failed (named on stderr); the other fixes are applied all the same.",
        PRELUDE,
        RUNNING,
        SSHD_TEST_HELPER,
        UNITS_HELPER,
        FIXES,
    ]
    for number, command in enumerate(later, start=1):
        out.append(f"imagevet_step_{number}() {{\n  {command}\n}}")
    if later:
        out.append("")
    for fix in plan.fixes:
        out.append(f"# --- {fix.check} ({fix.severity}): {fix.title}")
        out.append(f"{_function(fix.check)}() {{")
        expected = sshd_drop_ins(fix.steps)
        for step in fix.steps:
            out.extend(_step_lines(step, later, expected))
        out.append("  true\n}")
        out.append(f"imagevet_apply {fix.check} {_function(fix.check)}\n")
    if not plan.fixes:
        out.append("# Nothing to fix: no check failed.")
    out.extend(f"imagevet_run_later {n} {shlex.quote(c)}" for n, c in enumerate(later, start=1))
    out.extend(_verify_lines(plan))
    out.append(
        "if [ ${#imagevet_failed[@]} -gt 0 ]; then\n"
        '  echo "imagevet: ${#imagevet_failed[@]} fix(es) failed: ${imagevet_failed[*]}" >&2\n'
        "  exit 1\n"
        "fi\n"
        'echo "imagevet: hardening applied"'
    )
    return "\n".join(out) + "\n"
