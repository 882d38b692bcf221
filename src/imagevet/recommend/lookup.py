"""How to find an offering on its cloud: the identifiers, and a command a user can paste."""

from __future__ import annotations

import json

from imagevet.catalog.model import Offering


def lookup_command(offering: Offering) -> str:
    lookup = offering.lookup
    if offering.cloud == "aws":
        if "ssm" in lookup:
            return f"aws ssm get-parameter --name {lookup['ssm']} --query Parameter.Value --output text"
        owner = offering.publisher.ids[0]
        return (
            f'aws ec2 describe-images --owners {owner} --filters "Name=name,Values={lookup["name"]}" '
            '--query "sort_by(Images,&CreationDate)[-1].ImageId" --output text'
        )
    if offering.cloud == "azure":
        return f"az vm image show --urn {lookup['urn']}"
    if offering.cloud == "alibaba":
        return (
            f"aliyun ecs DescribeImages --RegionId <region> --ImageFamily {lookup['family']} "
            "--ImageOwnerAlias system"
        )
    if offering.cloud == "tencent":
        filters = [
            {"Name": "image-type", "Values": ["PUBLIC_IMAGE"]},
            {"Name": "platform", "Values": [lookup["platform"]]},
        ]
        return f"tccli cvm DescribeImages --region <region> --Filters '{json.dumps(filters)}'"
    if offering.cloud == "gcp":
        return f"gcloud compute images describe-from-family {lookup['family']} --project {lookup['project']}"
    return ""


def lookup_record(offering: Offering) -> dict[str, object]:
    """The JSON ``lookup`` object: publisher identity, identifiers and the command."""
    return {
        "publisher": offering.publisher.name,
        "publisher_ids": list(offering.publisher.ids),
        **offering.lookup,
        "command": lookup_command(offering),
    }
