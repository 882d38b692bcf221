"""Commands about which image to pick: verify, lifecycle, recommend, catalog."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

from imagevet.cli.common import (
    CLOUD_CHOICES,
    app,
    data_dir,
    notice,
    now_for,
    output_option,
    parse_date,
    use_color,
    write_output,
)
from imagevet.cli.declare import Argument, Option
from imagevet.errors import ImagevetError
from imagevet.report.lifecycle import Format as LifecycleFormat
from imagevet.report.verify import Format as VerifyFormat


@app.command()
def verify(
    image_id: Annotated[str, Argument(help="Image id in the cloud's native form (ami-…, URN, self-link …).")],
    cloud: Annotated[str, Option("--cloud", help=f"{CLOUD_CHOICES}.")],
    region: Annotated[str | None, Option("--region", help="Region (default: the SDK's).")] = None,
    fmt: Annotated[VerifyFormat, Option("--format", "-f", help="Output format.")] = VerifyFormat.TABLE,
    output: Annotated[Path | None, output_option("Write to FILE")] = None,
    as_of: Annotated[str | None, Option("--as-of", help="Judge ages at this date (YYYY-MM-DD).")] = None,
) -> None:
    """Prove an image id comes from an official publisher (exit 1: unofficial or deprecated; 2: unknown)."""
    from imagevet.catalog.store import load_catalog
    from imagevet.provenance.model import UNKNOWN
    from imagevet.provenance.verify import verify_image
    from imagevet.report import verify as render

    now = now_for(as_of)
    result = verify_image(cloud, image_id, load_catalog(data_dir()), now, region)
    color, width = use_color(output, fmt is VerifyFormat.TABLE)
    write_output(render.render(render.document(result), fmt, color=color, width=width), output)
    if result.verdict == UNKNOWN:
        notice(f"cannot verify: {'; '.join(result.reasons)}")
        raise SystemExit(2)
    if result.gate_fails():
        raise SystemExit(1)


class RecommendFormat(StrEnum):
    TABLE = "table"
    JSON = "json"
    MARKDOWN = "markdown"


@app.command()
def lifecycle(
    query: Annotated[
        str | None, Argument(help="Filter: a distro (ubuntu), release (rhel-9) or prefix.")
    ] = None,
    as_of: Annotated[str | None, Option("--as-of", help="Date to judge by (YYYY-MM-DD).")] = None,
    fmt: Annotated[LifecycleFormat, Option("--format", "-f", help="Output format.")] = LifecycleFormat.TABLE,
    output: Annotated[Path | None, output_option("Write to FILE")] = None,
) -> None:
    """Show releases with their support status and days left."""
    from imagevet.catalog.store import load_catalog
    from imagevet.report import lifecycle as render

    today = parse_date(as_of)
    catalog = load_catalog(data_dir())
    releases = list(catalog.releases)
    if query:
        wanted = query.lower()
        releases = [
            r
            for r in releases
            if r.release.lower() == wanted
            or r.release.lower().startswith(wanted + "-")
            or r.release.lower().startswith(wanted)
            or r.distro == wanted
        ]
        if not releases:
            raise ImagevetError(f"no release matches {query!r} (see 'imagevet lifecycle')")
    color, width = use_color(output, fmt is LifecycleFormat.TABLE)
    write_output(render.render(render.document(releases, today), fmt, color=color, width=width), output)


@app.command()
def recommend(
    scenario: Annotated[str, Option("--scenario", "-s", help="Workload: web-api, java-microservice, ...")],
    cloud: Annotated[str | None, Option("--cloud", "-c", help=f"{CLOUD_CHOICES}.")] = None,
    lifecycle_years: Annotated[
        float | None,
        Option(
            "--lifecycle-years",
            min=0,
            help="Years of security support needed (default: the scenario's, else 3).",
        ),
    ] = None,
    compliance: Annotated[
        str | None,
        Option("--compliance", help="Comma-separated: fips, pci-dss, mlps-l3, gdpr, hipaa, cis-l1."),
    ] = None,
    arch: Annotated[str, Option("--arch", help="x86_64 or arm64.")] = "x86_64",
    gpu: Annotated[bool, Option("--gpu", help="The workload needs NVIDIA GPUs.")] = False,
    allow_paid_support: Annotated[
        bool,
        Option(
            "--allow-paid-support",
            help="Count paid support tiers (Ubuntu Pro ESM, RHEL EUS/ELS, SUSE LTSS) toward the horizon.",
        ),
    ] = False,
    as_of: Annotated[str | None, Option("--as-of", help="Date to judge by (YYYY-MM-DD).")] = None,
    fmt: Annotated[RecommendFormat, Option("--format", "-f", help="Output format.")] = RecommendFormat.TABLE,
    output: Annotated[Path | None, output_option("Write to FILE")] = None,
) -> None:
    """Rank official LTS images for a workload on a cloud, and say why."""
    from imagevet.catalog.store import load_catalog
    from imagevet.recommend.engine import Query
    from imagevet.recommend.engine import recommend as rank
    from imagevet.report import recommend as render

    catalog = load_catalog(data_dir())
    profile = catalog.scenarios.get(scenario)
    if lifecycle_years is None:
        lifecycle_years = profile.lifecycle_years if profile and profile.lifecycle_years is not None else 3.0
    query = Query(
        scenario=scenario,
        cloud=cloud,
        lifecycle_years=lifecycle_years,
        compliance=tuple(c.strip() for c in (compliance or "").split(",") if c.strip()),
        arch={"amd64": "x86_64", "aarch64": "arm64"}.get(arch, arch),
        gpu=gpu,
        as_of=parse_date(as_of),
        allow_paid_support=allow_paid_support,
    )
    result = rank(catalog, query)
    if fmt is RecommendFormat.JSON:
        text = render.render_json(result)
    elif fmt is RecommendFormat.MARKDOWN:
        text = render.render_markdown(result)
    else:
        color, width = use_color(output, True)
        text = render.render_table(result, color=color, width=width)
    write_output(text, output)
    if not result.candidates:
        notice("no release passes the gates for this query")
        raise SystemExit(1)
