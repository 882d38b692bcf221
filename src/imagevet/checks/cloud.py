"""Cloud readiness checks (``audit --cloud C``): cloud-init datasource and token metadata, the cloud's
management and monitoring agents, time sync against the cloud's time service, volume encryption tools.
A container image has no kernel, cloud-init or agents of its own: these checks skip for it."""

from __future__ import annotations

import functools
from importlib import resources
from typing import Any

import yaml

from imagevet.checks.base import CheckOptions
from imagevet.errors import VersionError
from imagevet.facts import Facts
from imagevet.model import Evidence, Outcome, Status, Unknown
from imagevet.versions.deb import compare_deb

CLOUD_INIT_CONFIGS = ("/etc/cloud/cloud.cfg", "/etc/cloud/cloud.cfg.d/*.cfg")
TIME_CONFIGS = (
    "/etc/chrony/chrony.conf",
    "/etc/chrony.conf",
    "/etc/chrony/conf.d/*.conf",
    "/etc/chrony/sources.d/*.sources",
    "/etc/systemd/timesyncd.conf",
    "/etc/systemd/timesyncd.conf.d/*.conf",
    "/etc/ntp.conf",
    "/etc/ntpsec/ntp.conf",
)


@functools.cache
def readiness() -> dict[str, Any]:
    text = resources.files("imagevet.checks").joinpath("cloud.yaml").read_text(encoding="utf-8")
    data: dict[str, Any] = yaml.safe_load(text)["clouds"]
    return data


def _applies(facts: Facts, options: CheckOptions) -> dict[str, Any] | Outcome:
    if options.cloud is None:
        return Outcome.of(Status.SKIP, "no --cloud given")
    if facts.target.info.image is not None:
        return Outcome.of(Status.SKIP, "a container image has no cloud-init, agents or clock of its own")
    return dict(readiness()[options.cloud])


def _expand(facts: Facts, patterns: tuple[str, ...]) -> list[str]:
    paths: list[str] = []
    for pattern in patterns:
        paths += (
            facts.target.glob(pattern)
            if "*" in pattern
            else ([pattern] if facts.target.is_file(pattern) else [])
        )
    return paths


def cloudinit_datasource(facts: Facts, options: CheckOptions) -> Outcome:
    spec = _applies(facts, options)
    if isinstance(spec, Outcome):
        return spec
    cloud_init = facts.cloud_init
    if cloud_init is None:
        return Outcome.of(Status.FAIL, "cloud-init is not installed")
    if isinstance(cloud_init, Unknown):
        return Outcome.of(Status.ERROR, cloud_init.reason)
    evidence = [Evidence(f"cloud-init {cloud_init.version}")]
    ok = True
    minimum = spec.get("min_cloud_init")
    if minimum:
        try:
            if compare_deb(cloud_init.version, minimum) < 0:
                ok = False
                evidence.append(Evidence(f"older than {minimum}: no token-based (IMDSv2) metadata"))
        except VersionError as exc:
            return Outcome.of(Status.ERROR, str(exc))
    datasources: list[str] | None = None
    where: tuple[str, int] | None = None
    for path in _expand(facts, CLOUD_INIT_CONFIGS):  # later files override earlier ones
        text = facts.target.read_text(path)
        if isinstance(text, Unknown):
            continue
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError:
            evidence.append(Evidence("not valid YAML; cloud-init would ignore it", path))
            continue
        if isinstance(data, dict) and isinstance(data.get("datasource_list"), list):
            datasources = [str(d) for d in data["datasource_list"]]
            where = (path, 0)
    if datasources is None:
        evidence.append(Evidence("datasource_list not set: cloud-init detects the platform itself"))
    elif spec["datasource"] in datasources:
        evidence.append(
            Evidence(
                f"datasource_list {datasources} includes {spec['datasource']}", where[0] if where else None
            )
        )
    else:
        ok = False
        evidence.append(
            Evidence(f"datasource_list {datasources} lacks {spec['datasource']}", where[0] if where else None)
        )
    return Outcome(Status.PASS if ok else Status.FAIL, tuple(evidence))


def _present(facts: Facts, component: dict[str, Any], what: str) -> Outcome:
    packages = facts.packages if isinstance(facts.packages, dict) else {}
    found = [p for p in component.get("packages", []) if p in packages]
    found += [p for p in component.get("paths", []) if facts.target.exists(p)]
    if found:
        return Outcome.of(Status.PASS, f"{what}: {', '.join(found)}")
    names = ", ".join(component.get("packages", []) + component.get("paths", []))
    if isinstance(facts.packages, Unknown) and component.get("packages"):
        return Outcome.of(Status.ERROR, f"cannot tell whether a {what} is installed: {facts.packages.reason}")
    return Outcome.of(Status.FAIL, f"no {what} found (looked for {names})")


def cloud_agent(facts: Facts, options: CheckOptions) -> Outcome:
    spec = _applies(facts, options)
    return spec if isinstance(spec, Outcome) else _present(facts, spec["agent"], "management agent")


def cloud_monitoring(facts: Facts, options: CheckOptions) -> Outcome:
    spec = _applies(facts, options)
    return spec if isinstance(spec, Outcome) else _present(facts, spec["monitoring"], "monitoring agent")


def cloud_time(facts: Facts, options: CheckOptions) -> Outcome:
    spec = _applies(facts, options)
    if isinstance(spec, Outcome):
        return spec
    for path in _expand(facts, TIME_CONFIGS):
        text = facts.target.read_text(path)
        if isinstance(text, Unknown):
            continue
        for number, line in enumerate(text.splitlines(), start=1):
            if line.lstrip().startswith(("#", ";")):
                continue
            for server in spec["time"]:
                if server in line:
                    return Outcome.of(Status.PASS, Evidence(f"time source {server}", path, number))
    return Outcome.of(
        Status.FAIL,
        f"no time source of this cloud ({', '.join(spec['time'])}) in chrony, timesyncd or ntp configuration",
    )


def encryption_tools(facts: Facts, options: CheckOptions) -> Outcome:
    spec = _applies(facts, options)
    if isinstance(spec, Outcome):
        return spec
    return _present(
        facts,
        {"packages": ["cryptsetup", "cryptsetup-bin"], "paths": ["/sbin/cryptsetup", "/usr/sbin/cryptsetup"]},
        "volume encryption tool",
    )
