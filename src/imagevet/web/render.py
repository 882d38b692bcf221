"""Rendering the templates. The inputs are the CLI's own JSON documents (dicts), so the dashboard shows
stored reports exactly as the standalone page shows a fresh one."""

from __future__ import annotations

import functools
from typing import Any

from jinja2 import ChainableUndefined, Environment, PackageLoader, select_autoescape

STATUS_COLOURS = {
    "pass": "#1a7f37", "fail": "#cf222e", "error": "#8250df", "skip": "#6e7781", "waived": "#9a6700",
    "critical": "#8b0000", "high": "#cf222e", "medium": "#bc4c00", "low": "#9a6700", "unknown": "#6e7781",
    "supported": "#1a7f37", "extended-only": "#bc4c00", "end-of-life": "#cf222e",
}  # fmt: skip


@functools.cache
def environment() -> Environment:
    env = Environment(
        loader=PackageLoader("imagevet.web", "templates"),
        autoescape=select_autoescape(["html", "j2"]),
        undefined=ChainableUndefined,  # stored reports may lack optional fields: show nothing
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals["colour"] = lambda key: STATUS_COLOURS.get(str(key), "#57606a")
    return env


def render(template: str, **context: Any) -> str:
    return environment().get_template(template).render(**context)


def audit_html(document: dict[str, Any]) -> str:
    return render("audit.html.j2", doc=document, title=f"imagevet audit: {document['target']['path']}")


def vuln_html(document: dict[str, Any]) -> str:
    return render(
        "vuln.html.j2", doc=document, title=f"imagevet vulnerabilities: {document['target']['path']}"
    )
