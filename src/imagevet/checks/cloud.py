"""Cloud readiness checks (``audit --cloud C``): cloud-init's version, datasource and token metadata, the
cloud's management and monitoring agents, time sync against the cloud's time service, volume encryption
tools. A container image has no kernel, cloud-init or agents of its own: the readiness checks skip for it.
What each cloud needs is data (cloud.yaml, ``data``)."""

from __future__ import annotations

import functools
from typing import Any

from imagevet import packaged
from imagevet.checks.base import CheckOptions
from imagevet.checks.metadata import load_yaml
from imagevet.errors import VersionError
from imagevet.facts import Facts
from imagevet.model import Evidence, Outcome, Status, Unknown
from imagevet.versions.deb import compare_deb


@functools.cache
def _data() -> dict[str, Any]:
    text = packaged.text("imagevet.checks", "cloud.yaml")
    data: dict[str, Any] = load_yaml(text, "cloud.yaml")["data"]
    return data


def readiness() -> dict[str, Any]:
    """Cloud name -> what an image needs to be ready for it."""
    clouds: dict[str, Any] = _data()["clouds"]
    return clouds


def _encryption_tools() -> dict[str, Any]:
    tools: dict[str, Any] = _data()["encryption_tools"]
    return tools


def probe_paths() -> tuple[str, ...]:
    """Every path the readiness checks ask about (agents installed outside the package database)."""
    components = [spec[kind] for spec in readiness().values() for kind in ("agent", "monitoring")]
    paths = (path for component in [*components, _encryption_tools()] for path in component["paths"])
    return tuple(dict.fromkeys(paths))


def cloudinit_version(facts: Facts, options: CheckOptions) -> Outcome:
    cloud_init = facts.cloud_init
    if cloud_init is None:
        return Outcome.of(Status.FAIL, "cloud-init is not installed")
    if isinstance(cloud_init, Unknown):
        return Outcome.of(Status.ERROR, cloud_init.reason)
    shown = cloud_init.package_version or cloud_init.version
    wanted = options.min_cloud_init
    try:
        newer = compare_deb(cloud_init.version, wanted) >= 0
    except VersionError as exc:
        return Outcome.of(
            Status.ERROR, f"cloud-init version {cloud_init.version!r} cannot be compared: {exc}"
        )
    evidence = Evidence(f"cloud-init {shown} (from {cloud_init.source}); required >= {wanted}")
    return Outcome(Status.PASS if newer else Status.FAIL, (evidence,))


def _applies(facts: Facts, options: CheckOptions) -> dict[str, Any] | Outcome:
    if options.cloud is None:
        return Outcome.of(Status.SKIP, "no --cloud given")
    if facts.image is not None:
        return Outcome.of(Status.SKIP, "a container image has no cloud-init, agents or clock of its own")
    return dict(readiness()[options.cloud])


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
    config = facts.cloud_config
    evidence += [Evidence("not valid YAML; cloud-init would ignore it", path) for path in config.invalid]
    datasources = None if config.datasources is None else list(config.datasources)
    if datasources is None:
        evidence.append(Evidence("datasource_list not set: cloud-init detects the platform itself"))
    elif spec["datasource"] in datasources:
        evidence.append(
            Evidence(f"datasource_list {datasources} includes {spec['datasource']}", config.source)
        )
    else:
        ok = False
        evidence.append(Evidence(f"datasource_list {datasources} lacks {spec['datasource']}", config.source))
    return Outcome(Status.PASS if ok else Status.FAIL, tuple(evidence))


def _present(facts: Facts, component: dict[str, Any], what: str) -> Outcome:
    packages = facts.packages if isinstance(facts.packages, dict) else {}
    found = [p for p in component.get("packages", []) if p in packages]
    found += [p for p in component.get("paths", []) if p in facts.present_paths]
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
    for line in facts.time_config:
        for server in spec["time"]:
            if server in line.text:
                return Outcome.of(Status.PASS, Evidence(f"time source {server}", line.path, line.line))
    return Outcome.of(
        Status.FAIL,
        f"no time source of this cloud ({', '.join(spec['time'])}) in chrony, timesyncd or ntp configuration",
    )


def encryption_tools(facts: Facts, options: CheckOptions) -> Outcome:
    spec = _applies(facts, options)
    if isinstance(spec, Outcome):
        return spec
    return _present(facts, _encryption_tools(), "volume encryption tool")
