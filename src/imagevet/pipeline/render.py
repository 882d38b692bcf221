"""Render the pipeline project as {relative path: content}. Pure: the CLI writes the files.

Each layer is its own Packer template directory (layers/NAME) so it can be built, validated and scheduled
on its own; its source is the previous layer's output (by name prefix and owner self, or by family), and
the base layer's source pins the official publisher from the catalog. Every build hardens the image with
imagevet, runs `imagevet audit` inside the VM as a gate, downloads the audit and SBOM, and writes a
manifest."""

from __future__ import annotations

import datetime as dt
import functools
import json
from dataclasses import dataclass
from importlib import resources
from typing import Any

import yaml

from imagevet.catalog.lifecycle import END_OF_LIFE, EXTENDED_ONLY, lifecycle_status
from imagevet.catalog.model import Catalog, Offering, Release
from imagevet.errors import ImagevetError

CRON = {"base": "0 3 1 * *", "middleware": "0 4 1 1,4,7,10 *"}  # monthly; quarterly


@functools.cache
def knowledge() -> dict[str, Any]:
    text = resources.files("imagevet.pipeline").joinpath("pipeline.yaml").read_text(encoding="utf-8")
    data: dict[str, Any] = yaml.safe_load(text)
    return data


@dataclass(frozen=True)
class Layer:
    name: str  # base, middleware, app
    variant: str | None = None  # middleware:jdk21 -> jdk21

    @property
    def slug(self) -> str:
        return f"{self.name}-{self.variant}" if self.variant else self.name


def parse_layers(text: str) -> tuple[Layer, ...]:
    layers = []
    for item in (part.strip() for part in text.split(",")):
        name, _, variant = item.partition(":")
        if name not in ("base", "middleware", "app"):
            raise ImagevetError(f"--layers: unknown layer {item!r} (base, middleware:NAME, app)")
        if name == "middleware":
            known = knowledge()["middleware"]
            if variant not in known:
                raise ImagevetError(
                    f"--layers: middleware:{variant or '?'} (choose from: {', '.join(known)})"
                )
        elif variant:
            raise ImagevetError(f"--layers: {name} takes no variant")
        layers.append(Layer(name, variant or None))
    if not layers or layers[0].name != "base":
        raise ImagevetError("--layers must start with base")
    if len({layer.slug for layer in layers}) != len(layers):
        raise ImagevetError("--layers names a layer twice")
    return tuple(layers)


def _hcl(value: Any) -> str:
    """An HCL value: expressions as written; strings, numbers and booleans as JSON (which HCL2 reads);
    lists element by element."""
    if isinstance(value, Expression):
        return value.text
    if isinstance(value, list):
        return "[" + ", ".join(_hcl(item) for item in value) + "]"
    return json.dumps(value)


def _block(kind: str, labels: list[str], body: list[tuple[str, Any]], indent: int = 0) -> str:
    pad = " " * indent
    head = " ".join([kind, *(_hcl(label) for label in labels)])
    width = max((len(key) for key, _ in body if not key.startswith("#")), default=0)
    lines = [f"{pad}{head} {{"]
    for key, value in body:
        if key.startswith("#block"):
            lines.append(value)
        else:
            lines.append(f"{pad}  {key.ljust(width)} = {_hcl(value)}")
    lines.append(f"{pad}}}")
    return "\n".join(lines)


@dataclass(frozen=True)
class Expression:
    text: str


def _variables(names: dict[str, Any]) -> str:
    blocks = []
    for name, default in names.items():
        body: list[tuple[str, Any]] = [("type", Expression("string"))]
        if default is not None:
            body.append(("default", default))
        blocks.append(_block("variable", [name], body))
    return "\n\n".join(blocks)


def _ssh_user(cloud: str, distro: str) -> str:
    users = knowledge()["ssh_users"]
    return str(users.get(cloud, {}).get(distro) or users["default_user"][cloud])


def _source(
    cloud: str, layer: Layer, previous: Layer | None, offering: Offering, distro: str
) -> tuple[str, dict[str, Any]]:
    """The source block body and the variables it uses."""
    image = f"golden-{layer.slug}"
    defaults = knowledge()["defaults"][cloud]
    variables: dict[str, Any] = dict(defaults)
    body: list[tuple[str, Any]] = []
    lookup = offering.lookup
    if cloud == "aws":
        owners = [i for i in offering.publisher.ids if i.isdigit()] or list(offering.publisher.ids)
        name = lookup["name"] if previous is None else f"golden-{previous.slug}-*"
        filters = _block(
            "source_ami_filter",
            [],
            [
                (
                    "filters",
                    Expression(
                        "{\n      name                = "
                        + _hcl(name)
                        + '\n      virtualization-type = "hvm"\n      root-device-type    = "ebs"\n    }'
                    ),
                ),
                ("owners", owners if previous is None else ["self"]),
                ("most_recent", True),
            ],
            indent=2,
        )
        body = [
            ("region", Expression("var.region")),
            ("instance_type", Expression("var.instance_type")),
            ("ssh_username", _ssh_user(cloud, distro)),
            ("ami_name", f"{image}-{{{{timestamp}}}}"),
            ("#block", filters),
        ]
    elif cloud == "azure":
        variables.update({"subscription_id": None, "resource_group": "golden-images"})
        body = [
            ("use_azure_cli_auth", True),
            ("subscription_id", Expression("var.subscription_id")),
            ("location", Expression("var.location")),
            ("vm_size", Expression("var.vm_size")),
            ("os_type", "Linux"),
            ("managed_image_name", f"{image}-{{{{timestamp}}}}"),
            ("managed_image_resource_group_name", Expression("var.resource_group")),
        ]
        if previous is None:
            publisher, offer, sku, _ = lookup["urn"].split(":")
            body += [("image_publisher", publisher), ("image_offer", offer), ("image_sku", sku)]
        else:
            variables["source_image"] = None
            body += [
                ("custom_managed_image_name", Expression("var.source_image")),
                ("custom_managed_image_resource_group_name", Expression("var.resource_group")),
            ]
    elif cloud == "gcp":
        variables["project_id"] = None
        body = [
            ("project_id", Expression("var.project_id")),
            ("zone", Expression("var.zone")),
            ("machine_type", Expression("var.machine_type")),
            ("ssh_username", _ssh_user(cloud, distro)),
            ("image_name", f"{image}-{{{{timestamp}}}}"),
            ("image_family", image),
        ]
        if previous is None:
            body += [
                ("source_image_family", lookup["family"]),
                ("source_image_project_id", [lookup["project"]]),
            ]
        else:
            body += [
                ("source_image_family", f"golden-{previous.slug}"),
                ("source_image_project_id", [Expression("var.project_id")]),
            ]
    elif cloud == "alibaba":
        # Packer's alicloud-ecs takes an image id; the base's comes from the official image family
        # (README: aliyun ecs DescribeImageFromFamily), later layers' from the previous build's manifest.
        variables["source_image"] = None
        body = [
            ("region", Expression("var.region")),
            ("instance_type", Expression("var.instance_type")),
            ("source_image", Expression("var.source_image")),
            ("image_name", f"{image}-{{{{timestamp}}}}"),
            ("ssh_username", "root"),
            ("internet_charge_type", "PayByTraffic"),
            ("internet_max_bandwidth_out", 5),
        ]
    elif cloud == "tencent":
        body = [
            ("region", Expression("var.region")),
            ("zone", Expression("var.zone")),
            ("instance_type", Expression("var.instance_type")),
            ("image_name", f"{image}-{{{{timestamp}}}}"),
            ("ssh_username", _ssh_user(cloud, distro)),
            ("associate_public_ip_address", True),
        ]
        if previous is None:
            body.append(("source_image_name", lookup["name"].rstrip("*").strip()))
        else:
            variables["source_image"] = None
            body.append(("source_image_id", Expression("var.source_image")))
    return _block("source", [knowledge()["builders"][cloud]["type"], layer.name], body), variables


def render_project(
    cloud: str, release: str, layers: tuple[Layer, ...], catalog: Catalog, today: dt.date
) -> dict[str, str]:
    if cloud not in catalog.clouds:
        raise ImagevetError(f"unknown cloud {cloud!r} (choose from: {', '.join(catalog.clouds)})")
    # The builders filter by name (AWS), URN (Azure), family (GCP): pick the general image that has one.
    needed = {"aws": "name", "azure": "urn", "gcp": "family", "alibaba": "family", "tencent": "name"}.get(
        cloud
    )
    usable = [o for o in catalog.clouds[cloud].offerings_of(release) if needed is None or needed in o.lookup]
    offering = next((o for o in usable if o.variant == "general"), usable[0] if usable else None)
    if offering is None:
        offered = ", ".join(sorted({o.release for o in catalog.clouds[cloud].offerings}))
        raise ImagevetError(f"{release} is not offered officially on {cloud} (offered: {offered})")
    info = catalog.release(release)
    if info is not None:
        check_base(info, today)
    distro = info.distro if info else release.split("-")[0]
    family = info.family if info else "debian"
    builder = knowledge()["builders"][cloud]
    files: dict[str, str] = {}
    previous: Layer | None = None
    for layer in layers:
        source, variables = _source(cloud, layer, previous, offering, distro)
        build = _build(cloud, layer, family)
        template = "\n\n".join(
            [
                _origin(layer, previous, offering),
                _variables(variables),
                source,
                build,
            ]
        )
        files[f"layers/{layer.slug}/{layer.slug}.pkr.hcl"] = template + "\n"
        files[f"layers/{layer.slug}/plugins.pkr.hcl"] = _plugins(builder) + "\n"
        files[f"layers/{layer.slug}/provision.sh"] = _provision(layer, release, distro, family)
        previous = layer
    files[".github/workflows/golden-images.yml"] = _workflow(cloud, layers)
    files["README.md"] = _readme(cloud, offering, layers)
    return files


def _origin(layer: Layer, previous: Layer | None, offering: Offering) -> str:
    if previous is None:
        origin = f"the official {offering.name} ({offering.publisher.name})"
        return f"# {layer.slug}: from {origin}. Generated by imagevet."
    return f"# {layer.slug}: from golden-{previous.slug} (this pipeline). Generated by imagevet."


def _plugins(builder: dict[str, str]) -> str:
    return (
        "# Current Packer installs builders as plugins (`packer init .`). In a file of its own so older\n"
        "# Packer releases, whose builders are built in, validate the layer without it.\n"
        "packer {\n  required_plugins {\n"
        f"    {builder['plugin']} = {{\n      source  = {_hcl(builder['source'])}\n"
        f"      version = {_hcl(builder['version'])}\n    }}\n  }}\n}}"
    )


def _build(cloud: str, layer: Layer, family: str) -> str:
    source = f"source.{knowledge()['builders'][cloud]['type']}.{layer.name}"
    sudo = "sudo -E " if cloud not in ("alibaba",) else ""
    return "\n".join(
        [
            "build {",
            f"  sources = [{_hcl(source)}]",
            "",
            "  # Install, harden with imagevet, then gate: a failing high or critical check fails the build.",
            '  provisioner "shell" {',
            f"    execute_command = {_hcl(sudo + 'sh -c ' + chr(39) + '{{ .Vars }} {{ .Path }}' + chr(39))}",
            '    script          = "${path.root}/provision.sh"',
            "  }",
            "",
            '  provisioner "file" {',
            '    direction = "download"',
            '    source    = "/var/lib/imagevet/"',
            f'    destination = "reports/{layer.slug}/"',
            "  }",
            "",
            '  post-processor "manifest" {',
            f'    output     = "manifest-{layer.slug}.json"',
            "    strip_path = true",
            "  }",
            "}",
        ]
    )


def check_base(info: Release, today: dt.date) -> None:
    """A golden-image chain starts from a supported LTS release only: never from one past its free
    security support, nor from a non-LTS or rolling one."""
    status = lifecycle_status(info, today)
    if status.status in (END_OF_LIFE, EXTENDED_ONLY):
        raise ImagevetError(
            f"{info.release} is past its free security support ({info.eol}); choose a supported LTS base "
            "(imagevet recommend)"
        )
    if not info.lts:
        raise ImagevetError(f"{info.release} is not a long-term-support release; choose an LTS base")


def middleware_package(variant: str, release: str, distro: str, family: str) -> str:
    entry = knowledge()["middleware"][variant]
    if release in entry.get("unavailable", ()):
        others = [
            name for name, e in knowledge()["middleware"].items() if release not in e.get("unavailable", ())
        ]
        raise ImagevetError(
            f"middleware:{variant} is not packaged for {release} (choose from: {', '.join(others)})"
        )
    packages: dict[str, str] = entry["packages"]
    package = packages.get(distro) or packages.get(family)
    if package is None:
        raise ImagevetError(f"middleware:{variant} has no package for the {family} family")
    return package


def python_for(release: str, family: str) -> tuple[list[str], str]:
    """The packages that give imagevet its interpreter (Python >= 3.11) in the image, and its command."""
    table = knowledge()["python"]
    entry = table["releases"].get(release) or table["family"].get(family) or table["family"]["debian"]
    return list(entry["packages"]), str(entry["command"])


def python_warning(release: str) -> str | None:
    if release in knowledge()["python"]["too_old"]:
        return (
            f"{release}'s python3 is older than 3.11 and imagevet knows no newer interpreter package for it: "
            "each build stops with a clear message unless the base image gains one"
        )
    return None


def _provision(layer: Layer, release: str, distro: str, family: str) -> str:
    installers: dict[str, str] = knowledge()["install"]
    install = installers.get(family, installers["debian"])
    python_packages, python = python_for(release, family)
    lines = [
        "#!/bin/sh",
        f"# Layer {layer.slug}: generated by imagevet pipeline init.",
        "set -eu",
    ]
    if layer.name == "middleware" and layer.variant:
        lines.append(f"{install} {middleware_package(layer.variant, release, distro, family)}")
    elif layer.name == "app":
        lines.append("# Install the application here (artifact from this CI run).")
    lines += [
        f"{install} {' '.join(python_packages)}",
        f"{python} -c 'import sys; sys.exit(sys.version_info < (3, 11))' || "
        f"{{ echo 'imagevet needs Python >= 3.11 in the image; {python} is older' >&2; exit 1; }}",
        f"{python} -m venv /opt/imagevet && /opt/imagevet/bin/pip install -q imagevet",
        "mkdir -p /var/lib/imagevet",
        "# Fix what fails, then prove it: the audit is the gate (exit 1 fails the Packer build).",
        "/opt/imagevet/bin/imagevet harden / --emit bash -o /var/lib/imagevet/harden.sh",
        "bash /var/lib/imagevet/harden.sh || true  # fixes needing a reboot are judged by the audit below",
        "/opt/imagevet/bin/imagevet audit / --profile cis-l1 --fail-on high -f json \\\n"
        "  -o /var/lib/imagevet/audit.json",
        "/opt/imagevet/bin/imagevet packages / -f spdx -o /var/lib/imagevet/sbom.spdx.json",
    ]
    return "\n".join(lines) + "\n"


def _workflow(cloud: str, layers: tuple[Layer, ...]) -> str:
    jobs: dict[str, Any] = {}
    previous = None
    for layer in layers:
        condition = {
            "base": "github.event_name == 'schedule' && github.event.schedule == '" + CRON["base"] + "'"
            " || github.event_name == 'workflow_dispatch'",
            "middleware": "github.event_name == 'schedule' || github.event_name == 'workflow_dispatch'",
            "app": "always() && !failure() && !cancelled()",
        }[layer.name]
        job: dict[str, Any] = {
            "runs-on": "ubuntu-latest",
            "if": condition,
            "steps": [
                {"uses": "actions/checkout@v4"},
                {"uses": "hashicorp/setup-packer@main"},
                {"name": "packer init", "run": f"packer init layers/{layer.slug}"},
                {"name": f"build {layer.slug}", "run": f"packer build -color=false layers/{layer.slug}"},
                {
                    "name": "sign the audit and SBOM",
                    "run": (
                        "pip install 'imagevet[attest]' && imagevet attest "
                        f"--image-id \"$(jq -r '.builds[-1].artifact_id' manifest-{layer.slug}.json)\" "
                        f"--digest \"sha256:$(sha256sum manifest-{layer.slug}.json | cut -d' ' -f1)\" "
                        f"--audit reports/{layer.slug}/audit.json --sbom reports/{layer.slug}/sbom.spdx.json "
                        f'--key "$RUNNER_TEMP/imagevet.key" -o reports/{layer.slug}/attestation.json'
                    ),
                },
                {
                    "uses": "actions/upload-artifact@v4",
                    "with": {
                        "name": f"{layer.slug}-reports",
                        "path": f"reports/{layer.slug}/\nmanifest-{layer.slug}.json",
                    },
                },
            ],
        }
        if previous is not None:
            job["needs"] = previous.slug
        jobs[layer.slug] = job
        previous = layer
    workflow = {
        "name": "golden images",
        "on": {
            "schedule": [{"cron": CRON["base"]}, {"cron": CRON["middleware"]}],
            "push": {"branches": ["main"]},
            "workflow_dispatch": {},
        },
        "jobs": jobs,
    }
    header = (
        f"# Layered golden images on {cloud}: base monthly, middleware quarterly, app on every push.\n"
        "# Generated by imagevet pipeline init. Cloud credentials and the signing key come from repository\n"
        "# secrets (IMAGEVET_KEY is written to $RUNNER_TEMP/imagevet.key before the builds).\n"
    )
    return header + yaml.safe_dump(workflow, sort_keys=False, width=1000)


def _readme(cloud: str, offering: Offering, layers: tuple[Layer, ...]) -> str:
    chain = " -> ".join(layer.slug for layer in layers)
    return f"""# Golden images on {cloud}: {chain}

Generated by `imagevet pipeline init`. The base layer starts from the official {offering.name} image
published by {offering.publisher.name} (the source filter pins that publisher); each later layer starts from
the previous layer's newest output.

Each layer is a Packer template directory under `layers/`:

    packer init layers/base && packer build layers/base

Every build installs imagevet in the VM, applies `imagevet harden`, and fails unless `imagevet audit
--profile cis-l1 --fail-on high` passes. The audit and an SPDX SBOM are downloaded to `reports/LAYER/`,
and the manifest post-processor writes `manifest-LAYER.json`. The workflow in `.github/workflows` signs
them with `imagevet attest` (DSSE, Ed25519).

Cadence: the base layer is built monthly, middleware quarterly (and after a base build), and the app layer
on every push.
"""
