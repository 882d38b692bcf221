"""The plan as a bash script: files are replaced only when their content differs, commands are the
checks' own idempotent fixes, and steps that need a booted system are skipped inside an image build
(chroot, Packer before reboot) by testing for a running systemd."""

from __future__ import annotations

import shlex

from imagevet.harden.plan import Plan, file_mode

PRELUDE = """\
set -uo pipefail

# Write stdin to PATH with MODE, owned by root, only when the content differs (so a second run changes
# nothing); the new file is renamed into place so a reader never sees half of it.
imagevet_write() {
  local path=$1 mode=$2 tmp
  mkdir -p "$(dirname "$path")" || return 1
  tmp=$(mktemp "$path.imagevet.XXXXXX") || return 1
  cat >"$tmp" || return 1
  if [ -f "$path" ] && cmp -s "$tmp" "$path"; then
    rm -f "$tmp"
  else
    chmod "$mode" "$tmp" && mv -f "$tmp" "$path" && echo "imagevet: wrote $path"
  fi
}

# Service reloads and sysctl --system only make sense on a booted system, not in a chroot.
imagevet_running() { [ -d /run/systemd/system ]; }

# Each check's fix is a function; one that fails is reported and the others still run.
imagevet_failed=()
imagevet_apply() {
  if ! "$2"; then
    echo "imagevet: the fix for $1 failed" >&2
    imagevet_failed+=("$1")
  fi
}
"""


def _delimiter(content: str) -> str:
    delimiter = "IMAGEVET_EOF"
    while delimiter in content.splitlines():
        delimiter += "_"
    return delimiter


def _function(check: str) -> str:
    return "fix_" + check.replace("-", "_")


def render_bash(plan: Plan) -> str:
    out = [
        "#!/usr/bin/env bash",
        f"# {plan.headline}",
        "# Idempotent: a second run changes nothing. Run as root in the image (chroot, build VM) or a host.",
        "# Exit 1 when a fix failed (named on stderr); the other fixes are applied all the same.",
        PRELUDE,
    ]
    for fix in plan.fixes:
        out.append(f"# --- {fix.check} ({fix.severity}): {fix.title}")
        out.append(f"{_function(fix.check)}() {{")
        for step in fix.steps:
            if step.kind == "file" and step.path:
                content = step.text if step.text.endswith("\n") else step.text + "\n"
                delimiter = _delimiter(content)
                write = f"imagevet_write {shlex.quote(step.path)} {file_mode(step.path)}"
                out.append(f"  {write} <<'{delimiter}' || return 1\n{content}{delimiter}")
            elif step.kind == "command" and step.when == "running":
                out.append(f"  if imagevet_running; then\n    {{ {step.text}; }} || return 1\n  fi")
            elif step.kind == "command":
                out.append(f"  {{ {step.text}; }} || return 1")
            else:
                out.extend(f"  # manual: {line}" for line in step.text.splitlines())
        out.append("  true\n}")
        out.append(f"imagevet_apply {fix.check} {_function(fix.check)}\n")
    if not plan.fixes:
        out.append("# Nothing to fix: no check failed.")
    out.append(
        "if [ ${#imagevet_failed[@]} -gt 0 ]; then\n"
        '  echo "imagevet: ${#imagevet_failed[@]} fix(es) failed: ${imagevet_failed[*]}" >&2\n'
        "  exit 1\n"
        "fi\n"
        'echo "imagevet: hardening applied"'
    )
    return "\n".join(out) + "\n"
