"""Commands that build and sign: harden, attest, pipeline init."""

from __future__ import annotations

import datetime as dt
import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated

from imagevet import __version__
from imagevet.cli.common import (
    CLOUD_CHOICES,
    app,
    data_dir,
    is_stdout,
    notice,
    output_option,
    parse_date,
    read_user_file,
    write_output,
)
from imagevet.cli.declare import Argument, Option, Typer
from imagevet.cli.remote import TARGET_FORMS, DownloadOption, RegionOption, cli_target
from imagevet.errors import ImagevetError
from imagevet.model import Status


class HardenEmit(StrEnum):
    BASH = "bash"
    CLOUD_INIT = "cloud-init"
    ANSIBLE = "ansible"


@app.command()
def harden(
    target: Annotated[str, Argument(help=f"The image whose failing checks to fix: {TARGET_FORMS}.")],
    emit: Annotated[HardenEmit, Option("--emit", help="bash, cloud-init or ansible.")] = HardenEmit.BASH,
    checks: Annotated[str | None, Option("--checks", help="Only fix these check ids.")] = None,
    profile: Annotated[str, Option("--profile", help="Which checks to audit (as for audit).")] = "all",
    as_of: Annotated[str | None, Option("--as-of", help="Date lifecycles are judged by.")] = None,
    output: Annotated[Path | None, output_option("Write to FILE")] = None,
    region: RegionOption = None,
    download: DownloadOption = False,
) -> None:
    """Generate an idempotent remediation (bash, #cloud-config, Ansible) for the failing checks."""
    from imagevet.audit import run_audit, select_checks
    from imagevet.catalog.store import load_catalog
    from imagevet.checks.base import CheckOptions
    from imagevet.harden.ansible import render_playbook
    from imagevet.harden.bash import render_bash
    from imagevet.harden.cloudinit import render_cloud_config
    from imagevet.harden.plan import plan_for

    requested = [c.strip() for c in checks.split(",") if c.strip()] if checks else None
    check_ids = select_checks(requested, profile)
    options = CheckOptions(as_of=parse_date(as_of), catalog=load_catalog(data_dir()))
    with cli_target(target, region, download) as opened:
        report = run_audit(opened, options, check_ids)
    plan = plan_for(report)
    renderers = {HardenEmit.BASH: render_bash, HardenEmit.CLOUD_INIT: render_cloud_config,
                 HardenEmit.ANSIBLE: render_playbook}  # fmt: skip
    write_output(renderers[emit](plan), output, mode=0o755 if emit is HardenEmit.BASH else 0o644)
    manual = sum(len(f.manual) for f in plan.fixes)
    notice(f"{len(plan.fixes)} failing check(s) addressed; {manual} manual step(s)")
    undecided = [r.check for r in report.results if r.status is Status.ERROR]
    if undecided:  # nothing is generated for them: say so, rather than let the script look complete
        notice(f"not addressed, could not be decided: {', '.join(undecided)} (see 'imagevet audit')")


@app.command()
def attest(
    what: Annotated[
        list[str] | None,
        Argument(
            help=f"TARGET to attest ({TARGET_FORMS}), or 'keygen', or 'verify FILE'.", show_default=False
        ),
    ] = None,
    image_id: Annotated[str | None, Option("--image-id", help="The image id the statement names.")] = None,
    key: Annotated[
        Path | None, Option("--key", help="Private key (attest) or public key (verify), PEM.")
    ] = None,
    digest: Annotated[str | None, Option("--digest", help="The image digest (sha256:…) if known.")] = None,
    profile: Annotated[str, Option("--profile", help="Checks the embedded audit runs.")] = "checklist",
    as_of: Annotated[str | None, Option("--as-of", help="Date lifecycles are judged by.")] = None,
    output: Annotated[Path | None, output_option("Write the envelope to FILE")] = None,
    output_dir: Annotated[Path, Option("--output-dir", help="keygen: where to write the pair.")] = Path("."),
    name: Annotated[str, Option("--name", help="keygen: file name stem.")] = "imagevet",
    audit_file: Annotated[
        Path | None,
        Option("--audit", help="Attest this imagevet/audit/v1 report (with --sbom), not TARGET."),
    ] = None,
    sbom_file: Annotated[
        Path | None, Option("--sbom", help="The SBOM (JSON) to attest with --audit.")
    ] = None,
    region: RegionOption = None,
    download: DownloadOption = False,
) -> None:
    """Signed attestations: `attest TARGET --image-id ID --key KEY`, `attest keygen`, `attest verify FILE`."""
    from imagevet.attest import keys

    what = what or []
    if audit_file is not None or sbom_file is not None:
        if (
            what
            or audit_file is None
            or sbom_file is None
            or image_id is None
            or key is None
            or digest is None
        ):
            raise ImagevetError(
                "attest --audit FILE --sbom FILE needs --image-id, --digest and --key, and no TARGET"
            )
        _attest_reports(image_id, key, digest, audit_file, sbom_file, output)
        return
    if what == ["keygen"]:
        private, public = output_dir / f"{name}.key", output_dir / f"{name}.pub"
        identifier = keys.generate(private, public)
        write_output(f"wrote {private} (private, 0600) and {public}; keyid {identifier}\n")
        return
    if len(what) == 2 and what[0] == "verify":
        _attest_verify(Path(what[1]), key, image_id)
        return
    if len(what) != 1 or what[0] in ("keygen", "verify"):
        raise ImagevetError(
            "usage: attest TARGET --image-id ID --key KEY | attest keygen | attest verify FILE --key PUB"
        )
    if image_id is None or key is None:
        raise ImagevetError("attest TARGET needs --image-id and --key")
    _attest_create(what[0], image_id, key, digest, profile, as_of, output, region, download)


def _attest_create(
    spec: str,
    image_id: str,
    key: Path,
    digest: str | None,
    profile: str,
    as_of: str | None,
    output: Path | None,
    region: str | None = None,
    download: bool = False,
) -> None:
    from imagevet.attest.digest import image_digest
    from imagevet.attest.keys import load_private
    from imagevet.attest.statement import build_statement, sign
    from imagevet.audit import run_audit, select_checks
    from imagevet.catalog.store import load_catalog
    from imagevet.checks.base import CheckOptions
    from imagevet.facts.os_release import gather_os_release
    from imagevet.inventory.collect import collect_inventory
    from imagevet.model import OsRelease
    from imagevet.report import audit as audit_report
    from imagevet.report import packages as inventory_report
    from imagevet.report.sbom import spdx

    private = load_private(key)
    image = image_digest(spec, digest)
    options = CheckOptions(as_of=parse_date(as_of), catalog=load_catalog(data_dir()))
    with cli_target(spec, region, download) as opened:
        report = run_audit(opened, options, select_checks(None, profile))
        os_release = gather_os_release(opened)
        known = os_release if isinstance(os_release, OsRelease) else None
        inventory = collect_inventory(opened, known)
    packages = inventory_report.PackagesReport(opened.info, known, inventory, dt.datetime.now(dt.UTC))
    statement = build_statement(
        image_id,
        image,
        audit_report.document(report),
        spdx(inventory_report.document(packages)),
        f"imagevet {__version__}",
    )
    write_output(sign(statement, private).to_json(), output)
    notice(f"attested {image_id} ({image}): {report.summary()['fail']} failing check(s) recorded")


def _attest_reports(
    image_id: str, key: Path, digest: str, audit: Path, sbom: Path, output: Path | None
) -> None:
    """Sign reports made elsewhere (inside a Packer build): the audit must be imagevet's own document."""
    from imagevet.attest.digest import image_digest
    from imagevet.attest.keys import load_private
    from imagevet.attest.statement import build_statement, sign

    private = load_private(key)
    documents = []
    for path, what in ((audit, "audit report"), (sbom, "SBOM")):
        try:
            documents.append(json.loads(read_user_file(path, what)))
        except json.JSONDecodeError as exc:
            raise ImagevetError(f"{path}: the {what} is not JSON ({exc.msg}, line {exc.lineno})") from exc
    if not isinstance(documents[0], dict) or documents[0].get("schema") != "imagevet/audit/v1":
        raise ImagevetError(f"{audit}: not an imagevet/audit/v1 report")
    statement = build_statement(
        image_id, image_digest("", digest), documents[0], documents[1], f"imagevet {__version__}"
    )
    write_output(sign(statement, private).to_json(), output)
    notice(f"attested {image_id} ({digest}) from {audit} and {sbom}")


def _attest_verify(path: Path, key: Path | None, image_id: str | None) -> None:
    from imagevet.attest.keys import load_public
    from imagevet.attest.statement import verify

    if key is None:
        raise ImagevetError("attest verify needs --key PUBLIC_KEY")
    public = load_public(key)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ImagevetError(f"cannot read attestation {str(path)!r}: {exc.strerror}") from exc
    # Undecodable bytes are kept visible (and so fail the verification), not an input error.
    result = verify(raw.decode("utf-8", errors="replace"), public, image_id)
    subject = ""
    if result.statement:
        subjects = result.statement.get("subject") or [{}]
        subject = f" {subjects[0].get('name')} {subjects[0].get('digest')}"
    write_output(("verified" if result.ok else "NOT verified") + f"{subject}: {'; '.join(result.reasons)}\n")
    if not result.ok:
        raise SystemExit(1)


pipeline_app = Typer(help="Layered golden-image pipelines (Packer).", no_args_is_help=True)
app.add_typer(pipeline_app, name="pipeline")


@pipeline_app.command("init")
def pipeline_init(
    cloud: Annotated[str, Option("--cloud", help=f"{CLOUD_CHOICES}.")],
    base: Annotated[str, Option("--base", help="Release of the official base image (e.g. ubuntu-22.04).")],
    layers: Annotated[
        str, Option("--layers", help="Comma-separated: base, middleware:NAME, app.")
    ] = "base,middleware:jdk21,app",
    output: Annotated[Path, Option("--output", "-o", help="Project directory to create.")] = Path(
        "golden-images"
    ),
    as_of: Annotated[
        str | None, Option("--as-of", help="Date to judge the base's lifecycle by (YYYY-MM-DD).")
    ] = None,
) -> None:
    """Write a Packer project: a template per layer, hardening and an audit gate in each build, a CI file."""
    from imagevet.catalog.store import load_catalog
    from imagevet.pipeline.render import parse_layers, python_warning, render_project

    if is_stdout(output):
        raise ImagevetError(
            "--output: pipeline init writes a directory of files; '-' (stdout) does not apply"
        )
    files = render_project(cloud, base, parse_layers(layers), load_catalog(data_dir()), parse_date(as_of))
    if output.exists() and any(output.iterdir()):
        raise ImagevetError(f"{output} exists and is not empty; not overwriting")
    for relative, content in files.items():
        path = output / relative
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(content, encoding="utf-8")
            if path.suffix == ".sh":
                path.chmod(0o755)
        except OSError as exc:
            raise ImagevetError(f"cannot write {path}: {exc.strerror}") from exc
    write_output(f"wrote {len(files)} files to {output}\n")
    warning = python_warning(base)
    if warning:
        notice(warning)
