"""Installed packages from apk's database (``lib/apk/db/installed``)."""

from __future__ import annotations

from imagevet.model import Package


def parse_apk_installed(text: str) -> list[Package]:
    """One stanza per package, ``X:value`` lines; stanzas without a name or version are skipped."""
    packages = []
    for stanza in text.split("\n\n"):
        fields: dict[str, str] = {}
        for line in stanza.splitlines():
            if len(line) >= 2 and line[1] == ":" and line[0] not in fields:
                fields[line[0]] = line[2:]
        name, version = fields.get("P"), fields.get("V")
        if not name or not version:
            continue
        packages.append(
            Package(
                name=name,
                version=version,
                arch=fields.get("A", ""),
                source=fields.get("o", name),
                source_version=version,
                type="apk",
                license=fields.get("L", ""),
            )
        )
    return packages
