#!/usr/bin/env bash
# One entry point for a fresh Debian/Ubuntu machine:
#   ./dev.sh audit [ARGS...]  set up .venv and audit this machine's own root (/), or pass your own args
#   ./dev.sh test  [ARGS...]  install what the tests need (system packages too), then lint, type-check, test
# Idempotent: a second run only re-checks what is installed.
set -euo pipefail
cd "$(dirname "$0")"

VENV=${IMAGEVET_VENV:-.venv}
PY=${PYTHON:-python3}
# System packages the test suite drives for real: debootstrap builds the Debian root, openssh-server gives
# the real `sshd -T` oracle, dpkg compares versions, unshare/mount (util-linux) give private mounts, rpm and
# rpmbuild build and install real RPMs, python3-rpm (librpm) judges RPM version ordering; fdisk (sfdisk),
# e2fsprogs, xfsprogs, qemu-utils and lvm2 make real disk images without mounting; openscap-utils with the
# SCAP Security Guide (ssg-debian, ssg-debderived) is the benchmark's baseline (the side-by-side test fetches
# trixie's newer SSG itself, checked with debian-archive-keyring, which Ubuntu does not preinstall); packer
# (Debian's 1.6.6) validates the generated pipelines; openssl checks attestation keys and signatures;
# postgresql gives the service tests a real PostgreSQL (a throwaway cluster per run); chromium renders the
# dashboard and HTML reports (driven by Playwright, which uses this browser rather than downloading one);
# nginx serves disk images with range requests to the URL-target tests (its access log counts the bytes);
# GNU time gives the benchmarks (and their tests) each command's own peak memory; busybox runs the harden
# fixes as an Alpine image would (its sh and applets alone); systemd's systemctl --root is the oracle of the
# service checks (it reads a root's unit files without a running systemd).
TEST_PACKAGES=(debootstrap openssh-server dpkg util-linux mount python3-venv ca-certificates rpm python3-rpm
               fdisk e2fsprogs xfsprogs qemu-utils lvm2 sudo openscap-utils ssg-debian ssg-debderived packer
               debian-archive-keyring openssl postgresql chromium nginx time busybox systemd)

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
        echo "dev.sh: need root (or sudo) to run: $*" >&2; exit 2
    fi
}

apt_install() {
    local missing=()
    for pkg in "$@"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    echo "dev.sh: installing ${missing[*]}" >&2
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

python_ok() {
    "$PY" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' 2>/dev/null
}

setup_venv() {
    command -v "$PY" >/dev/null || apt_install python3
    python_ok || { echo "dev.sh: imagevet needs Python >= 3.11 ($PY is older); set PYTHON=python3.11" >&2; exit 2; }
    if ! "$PY" -c 'import ensurepip, venv' 2>/dev/null; then apt_install python3-venv; fi
    [ -x "$VENV/bin/python" ] || "$PY" -m venv "$VENV"
    "$VENV/bin/python" -m pip install -q --disable-pip-version-check -U pip
    "$VENV/bin/python" -m pip install -q --disable-pip-version-check -e ".$1"
}

cmd=${1:-}
shift || true
case "$cmd" in
    audit)
        setup_venv ""
        if [ $# -eq 0 ]; then set -- /; fi
        exec "$VENV/bin/imagevet" audit "$@"
        ;;
    test)
        apt_install "${TEST_PACKAGES[@]}"
        setup_venv "[test]"
        "$VENV/bin/ruff" check src tests benchmarks
        "$VENV/bin/ruff" format --check src tests benchmarks
        "$VENV/bin/mypy"
        exec "$VENV/bin/python" -m pytest "$@"
        ;;
    *)
        echo "usage: ./dev.sh audit [imagevet audit args] | ./dev.sh test [pytest args]" >&2
        exit 2
        ;;
esac
