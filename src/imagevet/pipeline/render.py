"""Render the pipeline project as {relative path: content}. Pure: the CLI writes the files.

Each layer is its own Packer template directory (layers/NAME) so it can be built, validated and scheduled
on its own; its source is the previous layer's output (by name prefix and owner self, or by family), and
the base layer's source pins the official publisher from the catalog. Every build hardens the image with
imagevet, runs `imagevet audit` inside the VM as a gate, downloads the audit and SBOM, and writes a
manifest."""

from __future__ import annotations

import datetime as dt
from typing import Any

import yaml

from imagevet.catalog.model import Catalog, Offering
from imagevet.errors import ImagevetError
from imagevet.pipeline.hcl import hcl_variables
from imagevet.pipeline.layers import CRON, Layer, knowledge, parse_layers
from imagevet.pipeline.packer import build_block, origin_of, plugins_block, source_block
from imagevet.pipeline.provision import check_base, provision_steps, python_warning

__all__ = ["parse_layers", "python_warning", "render_project"]


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
        source, variables = source_block(cloud, layer, previous, offering, distro)
        build = build_block(cloud, layer, family)
        template = "\n\n".join(
            [
                origin_of(layer, previous, offering),
                hcl_variables(variables),
                source,
                build,
            ]
        )
        files[f"layers/{layer.slug}/{layer.slug}.pkr.hcl"] = template + "\n"
        files[f"layers/{layer.slug}/plugins.pkr.hcl"] = plugins_block(builder) + "\n"
        files[f"layers/{layer.slug}/provision.sh"] = provision_steps(layer, release, distro, family)
        previous = layer
    files[".github/workflows/golden-images.yml"] = _workflow(cloud, layers)
    files["README.md"] = _readme(cloud, offering, layers)
    return files


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
