"""cloud-init in the image: its version (from the package database, else cloud-init's own version file)
and the datasources its configuration names."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from imagevet import lazy
from imagevet.facts.timesync import expand
from imagevet.model import Package, Unknown
from imagevet.target.base import Target

if TYPE_CHECKING:
    import yaml
else:
    yaml = lazy.module("yaml")  # imported on first use (imagevet/lazy.py)

VERSION_FILE_GLOBS = (
    "/usr/lib/python3/dist-packages/cloudinit/version.py",
    "/usr/lib/python3*/site-packages/cloudinit/version.py",
    "/usr/lib64/python3*/site-packages/cloudinit/version.py",
    "/usr/local/lib/python3*/dist-packages/cloudinit/version.py",
    "/usr/local/lib/python3*/site-packages/cloudinit/version.py",
)
_VERSION_RE = re.compile(r"""^__VERSION__\s*=\s*["']([^"']+)["']""", re.MULTILINE)


@dataclass(frozen=True)
class CloudInit:
    """cloud-init's version in the image and where it was read from."""

    version: str  # upstream version, e.g. "22.4.2"
    package_version: str | None  # the distro package's full version when known
    source: str


def upstream_version(package_version: str) -> str:
    """Strip epoch and revision or release: ``1:22.4.2-1+deb12u1``, ``23.4-7.el9`` -> upstream."""
    version = package_version.split(":", 1)[1] if ":" in package_version else package_version
    return version.rsplit("-", 1)[0] if "-" in version else version


def parse_version_file(text: str) -> str | None:
    match = _VERSION_RE.search(text)
    return match.group(1) if match else None


def gather_cloudinit(
    target: Target, packages: dict[str, Package] | Unknown | None
) -> CloudInit | Unknown | None:
    """cloud-init's version; None when it is not installed."""
    if isinstance(packages, dict) and "cloud-init" in packages:
        package = packages["cloud-init"]
        return CloudInit(upstream_version(package.version), package.version, f"{package.type} database")
    for pattern in VERSION_FILE_GLOBS:
        for path in target.glob(pattern):
            text = target.read_text(path)
            if isinstance(text, Unknown):
                return text
            version = parse_version_file(text)
            if version is None:
                return Unknown(f"{path} has no __VERSION__ line")
            return CloudInit(version, None, path)
    if isinstance(packages, Unknown):  # not found on disk, and the package database cannot be read
        return Unknown(f"cannot tell whether cloud-init is installed: {packages.reason}")
    return None


CLOUD_CONFIGS = ("/etc/cloud/cloud.cfg", "/etc/cloud/cloud.cfg.d/*.cfg")


@dataclass(frozen=True)
class CloudConfig:
    """cloud-init's ``datasource_list`` as its configuration files set it (later files override earlier
    ones), the file that set it, and the files cloud-init would ignore because they are not YAML."""

    datasources: tuple[str, ...] | None  # None: not set, cloud-init detects the platform itself
    source: str | None
    invalid: tuple[str, ...]


def parse_datasource_list(text: str) -> list[str] | None:
    """The ``datasource_list`` of one configuration file; None when it sets none. Raises ValueError for
    text that is not YAML (or nested beyond what the parser can follow)."""
    try:
        data = yaml.safe_load(text)
    except (yaml.YAMLError, RecursionError) as exc:
        raise ValueError("not valid YAML") from exc
    if isinstance(data, dict) and isinstance(data.get("datasource_list"), list):
        return [str(d) for d in data["datasource_list"]]
    return None


def gather_cloud_config(target: Target) -> CloudConfig:
    datasources: list[str] | None = None
    source: str | None = None
    invalid: list[str] = []
    for path in expand(target, CLOUD_CONFIGS):
        text = target.read_text(path)
        if isinstance(text, Unknown):
            continue
        try:
            found = parse_datasource_list(text)
        except ValueError:
            invalid.append(path)
            continue
        if found is not None:
            datasources, source = found, path
    return CloudConfig(None if datasources is None else tuple(datasources), source, tuple(invalid))
