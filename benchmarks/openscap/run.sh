#!/usr/bin/env bash
# Audit an offline Debian 12 root filesystem with OpenSCAP + SCAP Security Guide (Debian packages
# openscap-utils, ssg-debian, ssg-debderived; SSG 0.1.65), for comparison with imagevet.
#
# Usage: run.sh [ROOT [PROFILE]]     (must run as root: it bind-mounts ROOT read-only)
#   PROFILE: one name of PROFILES below (e.g. ubuntu2204-cis_level1_server) to evaluate only that one, as
#   benchmarks/openscap_ratio.py does for each of its runs; default: all of them.
# Output: one summary line per profile on stdout; results XML, oscap logs and `time -v` output
# are kept in ${TMPDIR:-/tmp}/imagevet-oscap.
#
# SSG 0.1.65 has no Debian 12 content, so we evaluate copies of the debian11 and ubuntu2204 data
# streams. Each Benchmark carries exactly one OS platform, e.g.
#   <xccdf-1.2:platform idref="cpe:/o:debian:debian_linux:11"/>
# which oscap resolves through the CPE dictionary to an OVAL check (installed_OS_is_debian11:
# /etc/debian_version matches ^11.[0-9]+$; installed_OS_is_ubuntu2204: /etc/lsb-release has
# DISTRIB_CODENAME=jammy). On Debian 12 it is false and every rule is "notapplicable". Deleting
# that single Benchmark-level <platform> line (the only platform idref starting with "cpe:/o:")
# makes the Benchmark applicable; rule-level platforms (#machine, #pam, ...) and all OVAL checks
# are left as shipped. The edited data stream still passes `oscap ds sds-validate` (it is not
# signed). Patching the OVAL definitions to always be true would also work but touches more.
#
# Offline caveat (see the .log files): the sysctl, shadow and uname probes do not support offline
# mode; their objects are "not applicable", so sysctl rules are judged on config files only and
# /etc/shadow-based rules come out "notapplicable".
#
# oscap-chroot (OSCAP_PROBE_ROOT) may write into the scanned tree, so it scans a read-only bind
# mount made inside a private mount namespace (unshare -m), which disappears with the process.
# Timing: /usr/bin/time -v of oscap-chroot; peak_rss_mb is "Maximum resident set size" / 1024.
set -euo pipefail

ROOT=${1:-/root/.cache/imagevet-tests/debian12-b2fbe81a6aa4/root}
ONLY=${2:-}
WORK=${TMPDIR:-/tmp}/imagevet-oscap
SSG=/usr/share/xml/scap/ssg/content
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# name  source data stream  profile
PROFILES=(
  "debian11-standard ssg-debian11-ds.xml xccdf_org.ssgproject.content_profile_standard"
  "ubuntu2204-cis_level1_server ssg-ubuntu2204-ds.xml xccdf_org.ssgproject.content_profile_cis_level1_server"
)

[[ $EUID -eq 0 ]] || { echo "run.sh: must run as root (bind mount)" >&2; exit 1; }
[[ -d $ROOT/etc ]] || { echo "run.sh: $ROOT does not look like a root filesystem" >&2; exit 1; }
if [[ -n $ONLY ]]; then
  selected=()
  for entry in "${PROFILES[@]}"; do [[ ${entry%% *} == "$ONLY" ]] && selected+=("$entry"); done
  [[ ${#selected[@]} -eq 1 ]] || { echo "run.sh: no profile named $ONLY" >&2; exit 1; }
  PROFILES=("${selected[@]}")
fi

# Re-execute inside a private mount namespace (unshare makes mount propagation private).
if [[ -z ${IMAGEVET_OSCAP_IN_NS:-} ]]; then
  IMAGEVET_OSCAP_IN_NS=1 exec unshare --mount --propagation private bash "${BASH_SOURCE[0]}" "$ROOT" "$ONLY"
fi

mkdir -p "$WORK"
MNT=$WORK/ro
mkdir -p "$MNT"
cleanup() { mountpoint -q "$MNT" && umount "$MNT"; rmdir "$MNT" 2>/dev/null || true; }
trap cleanup EXIT
mount --bind "$ROOT" "$MNT"
mount -o remount,bind,ro "$MNT"
findmnt -no OPTIONS "$MNT" | grep -qw ro || { echo "run.sh: $MNT is not read-only" >&2; exit 1; }

for entry in "${PROFILES[@]}"; do
  read -r name src profile <<<"$entry"
  ds=$WORK/$name-ds.xml
  # Drop the Benchmark's OS platform (see header). Fail if it was not exactly one line.
  sed -E '/<xccdf-1\.2:platform idref="cpe:\/o:[^"]*"\/>/d' "$SSG/$src" >"$ds"
  removed=$(( $(wc -l <"$SSG/$src") - $(wc -l <"$ds") ))
  [[ $removed -eq 1 ]] || { echo "run.sh: expected 1 OS platform line in $src, removed $removed" >&2; exit 1; }

  results=$WORK/$name-results.xml
  rm -f "$results"
  # oscap exits 0 = all pass, 2 = some rule failed, anything else = error.
  rc=0
  /usr/bin/time -v -o "$WORK/$name.time" \
    oscap-chroot "$MNT" xccdf eval --profile "$profile" --results "$results" "$ds" \
    >"$WORK/$name.log" 2>&1 || rc=$?
  if [[ $rc -ne 0 && $rc -ne 2 ]]; then
    echo "run.sh: oscap failed for $name (exit $rc), see $WORK/$name.log" >&2; exit 1
  fi

  # "Elapsed (wall clock) time (h:mm:ss or m:ss): 0:02.41" and "Maximum resident set size (kbytes): N"
  wall=$(awk -F': ' '/Elapsed \(wall clock\)/ { n = split($2, t, ":"); s = 0;
           for (i = 1; i <= n; i++) s = s * 60 + t[i]; printf "%.2f", s }' "$WORK/$name.time")
  rss=$(awk -F': ' '/Maximum resident set size/ { printf "%d", $2 / 1024 + 0.5 }' "$WORK/$name.time")
  echo "openscap $name wall_s=$wall peak_rss_mb=$rss $(python3 "$HERE/extract.py" --counts "$results")"
done
