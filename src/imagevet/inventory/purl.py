"""Package URLs (purl spec) for installed OS packages, with the distro qualifier."""

from __future__ import annotations

from packageurl import PackageURL

from imagevet.model import OsRelease, Package


def distro_qualifier(os: OsRelease | None) -> str | None:
    if os is None:
        return None
    return f"{os.id}-{os.version_id}" if os.version_id else os.id


def package_url(package: Package, os: OsRelease | None) -> str:
    """``pkg:deb/debian/bash@5.2.15-2+b2?arch=amd64&distro=debian-12`` and the like.

    rpm carries its epoch as a qualifier and version-release as the version, as the purl spec asks.
    """
    namespace = os.id if os is not None else None
    qualifiers: dict[str, str] = {}
    if package.arch:
        qualifiers["arch"] = package.arch
    version = package.version
    if package.type == "rpm":
        version = version.split(":", 1)[1] if ":" in version else version
        if package.epoch is not None:
            qualifiers["epoch"] = str(package.epoch)
    distro = distro_qualifier(os)
    if distro:
        qualifiers["distro"] = distro
    return str(
        PackageURL(
            type=package.type,
            namespace=namespace,
            name=package.name,
            version=version,
            qualifiers=qualifiers or None,
        )
    )
