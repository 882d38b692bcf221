"""`imagevet catalog`: where the knowledge comes from, every image family, and refreshing it."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import Annotated

from imagevet.cli.common import app, data_dir, notice, output_option, progress, use_color, write_output
from imagevet.cli.declare import Option, Typer
from imagevet.report.catalog import Format as CatalogFormat

catalog_app = Typer(
    help="The release and image catalog: its sources, its image families, refreshing it.",
    no_args_is_help=True,
)
app.add_typer(catalog_app, name="catalog")


@catalog_app.command("update")
def catalog_update(
    base_url: Annotated[
        str | None,
        Option("--base-url", help="endoflife.date API base (default: $IMAGEVET_EOL_URL or public)."),
    ] = None,
    timeout: Annotated[float, Option("--timeout", min=0.1, help="Seconds per request.")] = 20.0,
    from_cloud: Annotated[
        str | None,
        Option(
            "--from-cloud",
            help="Instead: resolve every image's lookup on this cloud (aws) and record the latest image ids.",
        ),
    ] = None,
    region: Annotated[
        str | None,
        Option("--region", help="With --from-cloud: the region to ask (default: the SDK's, AWS_REGION)."),
    ] = None,
) -> None:
    """Refresh lifecycle dates from endoflife.date (or, with --from-cloud, the latest image ids from the
    cloud) into a user override file."""
    from imagevet.errors import ImagevetError

    if from_cloud is not None:
        if base_url is not None:
            raise ImagevetError("--base-url is for endoflife.date; it cannot be combined with --from-cloud")
        _update_from_cloud(from_cloud, region)
        return
    if region is not None:
        raise ImagevetError("--region needs --from-cloud")
    from imagevet.catalog.loader import bundled_catalog
    from imagevet.catalog.store import override_path
    from imagevet.catalog.update import DEFAULT_BASE_URL, PRODUCTS, download_overrides, write_overrides

    url = base_url or os.environ.get("IMAGEVET_EOL_URL") or DEFAULT_BASE_URL
    known = {r.release for r in bundled_catalog().releases}
    path = override_path(data_dir())
    with progress("downloading lifecycle data", total=len(PRODUCTS)) as line:
        entries = download_overrides(url, known, timeout, lambda product: line.step(f"downloading {product}"))
    write_overrides(path, entries, url, dt.date.today())
    notice(f"updated lifecycle dates of {len(entries)} releases from {url} into {path}")


def _update_from_cloud(cloud: str, region: str | None) -> None:
    """`catalog update --from-cloud`: every image's latest id into the image override file; exit 1 when
    a lookup returned nothing (after writing the file)."""
    from imagevet.catalog import cloud_refresh, image_overrides
    from imagevet.catalog.loader import bundled_catalog
    from imagevet.catalog.model import CLOUDS
    from imagevet.catalog.store import image_override_path, load_image_overrides
    from imagevet.errors import ImagevetError

    if cloud not in cloud_refresh.CLOUDS:
        if cloud in CLOUDS:
            raise ImagevetError(f"--from-cloud {cloud} is not supported yet (supported: aws)")
        raise ImagevetError(f"unknown cloud {cloud!r} for --from-cloud (supported: aws)")
    folder = data_dir()
    path = image_override_path(folder)
    previous = load_image_overrides(folder)  # a broken file is refused before any call is made
    catalog = bundled_catalog()
    api = cloud_refresh.Boto3Aws(region)
    checked = image_overrides.checked_at(dt.datetime.now(dt.UTC))
    with progress(f"asking {cloud}", total=len(catalog.clouds[cloud].offerings) + 1) as line:
        facts = cloud_refresh.refresh_aws(catalog, api, checked, lambda what: line.step(f"{cloud}: {what}"))
    image_overrides.write(path, cloud_refresh.merged(previous, facts))
    missing = [f for f in facts.images.values() if f.status == "missing"]
    notice(
        f"recorded {len(facts.images)} {cloud} images in {facts.region} into {path}: "
        f"{facts.count('found')} found, {len(missing)} missing, {facts.count('skipped')} skipped "
        f"(placeholders in the lookup), {len(facts.new)} new releases not in the catalog"
    )
    for fact in missing:
        notice(f"missing: {cloud}/{fact.image}: {fact.reason}")
    for new in facts.new:
        notice(f"new: {new.release} ({new.parameter} = {new.value})")
    if missing:
        notice(f"{len(missing)} lookups returned nothing: {', '.join(f.image for f in missing)}")
        raise SystemExit(1)


@catalog_app.command("show")
def catalog_show() -> None:
    """Print where the catalog's data comes from (every source URL and the day it was checked)."""
    from imagevet.catalog.store import load_catalog, override_path, override_text
    from imagevet.catalog.update import read_override_meta

    catalog = load_catalog(data_dir())
    images = sum(len(c.offerings) for c in catalog.clouds.values())
    cited = {s for r in catalog.releases for s in (*r.sources, *(t.source for t in r.tiers))}
    cited |= {s for c in catalog.clouds.values() for o in c.offerings for s in o.sources}
    checked = sorted(s.checked for s in cited)
    lines = [
        f"releases: {len(catalog.releases)}; images: {images} on {', '.join(catalog.clouds)}; "
        f"scenarios: {', '.join(catalog.scenarios)}",
        f"bundled data: sources checked {checked[0].isoformat()} to {checked[-1].isoformat()} (listed below)",
    ]
    path = override_path(data_dir())
    text = override_text(data_dir())
    if text is not None:
        source, fetched = read_override_meta(text)
        lines.append(f"override: {path} (fetched {fetched or 'unknown'} from {source or 'unknown'})")
        if fetched:
            try:
                age = (dt.date.today() - dt.date.fromisoformat(fetched)).days
            except ValueError:
                age = None
            if age is not None and age > 180:
                lines.append(f"warning: the override is {age} days old; run 'imagevet catalog update'")
    else:
        lines.append(f"override: none (run 'imagevet catalog update' to write {path})")
    lines += _image_override_lines()
    uncertain = [r.release for r in catalog.releases if r.uncertain]
    uncertain += [f"{o.cloud}/{o.image}" for c in catalog.clouds.values() for o in c.offerings if o.uncertain]
    if uncertain:
        lines.append(f"not verified from a primary source (uncertain): {', '.join(uncertain)}")
    lines.append("sources:")
    lines += [f"  - {source}" for source in sorted({s.cite() for s in cited})]
    write_output("\n".join(lines) + "\n", None)


def _image_override_lines() -> list[str]:
    """`catalog show`: the image override file, its age and its counts."""
    from imagevet.catalog.store import image_override_path, load_image_overrides

    path = image_override_path(data_dir())
    found = load_image_overrides(data_dir())
    if found is None:
        return [f"image overrides: none (run 'imagevet catalog update --from-cloud aws' to write {path})"]
    lines = [f"image overrides: {path}"]
    now = dt.datetime.now(dt.UTC)
    for key, facts in sorted(found.clouds.items()):
        when = dt.datetime.strptime(facts.checked, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.UTC)
        age = (now - when).days
        lines.append(
            f"  {key} ({facts.region}, checked {facts.checked}, {age} days ago): "
            f"{facts.count('found')} found, {facts.count('missing')} missing, "
            f"{facts.count('skipped')} skipped, {len(facts.new)} new releases"
        )
        if age > 30:
            lines.append(
                f"warning: the {key} image facts are {age} days old; run 'imagevet catalog update "
                f"--from-cloud {key}'"
            )
    return lines


@catalog_app.command("images")
def catalog_images(
    cloud: Annotated[str | None, Option("--cloud", "-c", help="Only this cloud.")] = None,
    variant: Annotated[
        str | None, Option("--variant", help="Only this kind: general, pro, gpu, k8s-node ...")
    ] = None,
    release: Annotated[str | None, Option("--release", help="Only this release (ubuntu-24.04).")] = None,
    fmt: Annotated[CatalogFormat, Option("--format", "-f", help="Output format.")] = CatalogFormat.TABLE,
    output: Annotated[Path | None, output_option("Write to FILE")] = None,
) -> None:
    """List every official image family the catalog knows, with its lookup and sources."""
    from imagevet.catalog.model import VARIANTS
    from imagevet.catalog.store import load_catalog
    from imagevet.errors import ImagevetError
    from imagevet.report import catalog as render

    catalog = load_catalog(data_dir())
    if cloud is not None and cloud not in catalog.clouds:
        raise ImagevetError(f"unknown cloud {cloud!r} (choose from: {', '.join(catalog.clouds)})")
    if variant is not None and variant not in VARIANTS:
        raise ImagevetError(f"unknown variant {variant!r} (choose from: {', '.join(VARIANTS)})")
    offerings = [
        o
        for c in catalog.clouds.values()
        for o in c.offerings
        if (cloud is None or o.cloud == cloud)
        and (variant is None or o.variant == variant)
        and (release is None or o.release == release)
    ]
    if not offerings:
        raise ImagevetError("no image matches (see 'imagevet catalog images')")
    color, width = use_color(output, fmt is CatalogFormat.TABLE)
    write_output(render.render(render.document(offerings), fmt, color=color, width=width), output)
