"""The Packer side of one layer: its source (the official base, pinned by publisher, or the previous
layer's output), the plugins it needs and its build block."""

from __future__ import annotations

from typing import Any

from imagevet.catalog.model import Offering
from imagevet.pipeline.hcl import Expression, hcl_block, hcl_value
from imagevet.pipeline.layers import Layer, knowledge


def _ssh_user(cloud: str, distro: str) -> str:
    users = knowledge()["ssh_users"]
    return str(users.get(cloud, {}).get(distro) or users["default_user"][cloud])


def source_block(
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
        filters = hcl_block(
            "source_ami_filter",
            [],
            [
                (
                    "filters",
                    Expression(
                        "{\n      name                = "
                        + hcl_value(name)
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
    return hcl_block("source", [knowledge()["builders"][cloud]["type"], layer.name], body), variables


def origin_of(layer: Layer, previous: Layer | None, offering: Offering) -> str:
    if previous is None:
        origin = f"the official {offering.name} ({offering.publisher.name})"
        return f"# {layer.slug}: from {origin}. Generated by imagevet."
    return f"# {layer.slug}: from golden-{previous.slug} (this pipeline). Generated by imagevet."


def plugins_block(builder: dict[str, str]) -> str:
    return (
        "# Current Packer installs builders as plugins (`packer init .`). In a file of its own so older\n"
        "# Packer releases, whose builders are built in, validate the layer without it.\n"
        "packer {\n  required_plugins {\n"
        f"    {builder['plugin']} = {{\n      source  = {hcl_value(builder['source'])}\n"
        f"      version = {hcl_value(builder['version'])}\n    }}\n  }}\n}}"
    )


def build_block(cloud: str, layer: Layer, family: str) -> str:
    source = f"source.{knowledge()['builders'][cloud]['type']}.{layer.name}"
    sudo = "sudo -E " if cloud not in ("alibaba",) else ""
    execute = hcl_value(sudo + "sh -c " + chr(39) + "{{ .Vars }} {{ .Path }}" + chr(39))
    return "\n".join(
        [
            "build {",
            f"  sources = [{hcl_value(source)}]",
            "",
            "  # Install, harden with imagevet, then gate: a failing high or critical check fails the build.",
            '  provisioner "shell" {',
            f"    execute_command = {execute}",
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
