"""How to find an image on its cloud: the identifiers, and a command a user can paste.

The lookup keys per cloud are those of docs/catalog-data.md (validated by catalog/parse_images.py).
Placeholders such as ``<region>`` or ``<k8s-version>`` stay in the command for the user to fill.
"""

from __future__ import annotations

import json

from imagevet.catalog.model import Offering


def _aws(offering: Offering) -> str:
    lookup = offering.lookup
    if "ssm" in lookup:
        return f"aws ssm get-parameter --name {lookup['ssm']} --query Parameter.Value --output text"
    owner = lookup.get("owner", offering.publisher.ids[0])
    return (
        f'aws ec2 describe-images --owners {owner} --filters "Name=name,Values={lookup["name"]}" '
        '--query "sort_by(Images,&CreationDate)[-1].ImageId" --output text'
    )


def _azure(offering: Offering) -> str:
    lookup = offering.lookup
    if "urn" in lookup:
        return f"az vm image show --urn {lookup['urn']}"
    return (
        "az aks nodepool add --resource-group <group> --cluster-name <cluster> --name <pool> "
        f"--os-sku {lookup['os-sku']}"
    )


def _alibaba(offering: Offering) -> str:
    lookup = offering.lookup
    if "family" in lookup:
        return (
            f"aliyun ecs DescribeImages --RegionId <region> --ImageFamily {lookup['family']} "
            "--ImageOwnerAlias system"
        )
    return (
        f"aliyun ecs DescribeImages --RegionId <region> --ImageName '{lookup['name']}' "
        "--ImageOwnerAlias system"
    )


def _tencent(offering: Offering) -> str:
    filters = [
        {"Name": "image-type", "Values": ["PUBLIC_IMAGE"]},
        {"Name": "platform", "Values": [offering.lookup["platform"]]},
    ]  # the name pattern is matched by the user (JSON lookup.name): Tencent's filter takes no globs
    return f"tccli cvm DescribeImages --region <region> --Filters '{json.dumps(filters)}'"


def _gcp(offering: Offering) -> str:
    lookup = offering.lookup
    if "family" in lookup:
        return f"gcloud compute images describe-from-family {lookup['family']} --project {lookup['project']}"
    return (
        f"gcloud container node-pools create <pool> --cluster <cluster> --image-type {lookup['image-type']}"
    )


COMMANDS = {"aws": _aws, "azure": _azure, "alibaba": _alibaba, "tencent": _tencent, "gcp": _gcp}


def lookup_command(offering: Offering) -> str:
    return COMMANDS[offering.cloud](offering)


def lookup_record(offering: Offering) -> dict[str, object]:
    """The JSON ``lookup`` object: publisher identity, identifiers and the command."""
    return {
        "image": offering.image,
        "variant": offering.variant,
        "paid": offering.paid,
        "publisher": offering.publisher.name,
        "publisher_ids": list(offering.publisher.ids),
        **offering.lookup,
        "command": lookup_command(offering),
        "uncertain": list(offering.uncertain),
    }
