"""JUnit XML of an ``imagevet/audit/v1`` document: one testcase per check shown, so CI systems show the
audit like a test run.

fail -> <failure>, error -> <error>, skip and waived -> <skipped> (with the reason), pass -> plain testcase.
The suite's counts are of the testcases it holds; a ``--severity`` filter is recorded as suite properties.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

from imagevet.model import Evidence


def _details(result: dict[str, Any]) -> str:
    lines = [f"severity: {result['severity']}", "evidence:"]
    lines += [f"  - {Evidence(**e)}" for e in result["evidence"]]
    if result["remediation"]:
        lines.append("remediation:")
        for step in result["remediation"]:
            if step["kind"] == "note":
                lines.append(f"  - {step['note']}")
            elif step["kind"] == "file":
                lines.append(f"  - write {step['path']}:")
                lines += [f"      {line}" for line in step["content"].splitlines()]
            else:
                lines.append(f"  - run: {step['run']}")
    return "\n".join(lines)


def render(document: dict[str, Any]) -> str:
    results = document["results"]
    count = {s: sum(1 for r in results if r["status"] == s) for s in ("fail", "error", "skip", "waived")}
    name = f"imagevet audit {document['target']['path']}"
    suites = ET.Element("testsuites", name=name)
    suite = ET.SubElement(
        suites,
        "testsuite",
        name=name,
        tests=str(len(results)),
        failures=str(count["fail"]),
        errors=str(count["error"]),
        skipped=str(count["skip"] + count["waived"]),
        timestamp=document["as_of"],
    )
    if "filter" in document:
        properties = ET.SubElement(suite, "properties")
        shown = ",".join(document["filter"]["severity"])
        ET.SubElement(properties, "property", name="imagevet.severity", value=shown)
        ET.SubElement(properties, "property", name="imagevet.hidden", value=str(document["filter"]["hidden"]))
    for result in results:
        case = ET.SubElement(
            suite,
            "testcase",
            classname=f"imagevet.{result['check'].split('-')[0]}",
            name=f"{result['check']}: {result['title']}",
        )
        evidence = "; ".join(str(Evidence(**e)) for e in result["evidence"])
        status = result["status"]
        if status == "fail":
            failure = ET.SubElement(
                case, "failure", message=evidence or result["title"], type=result["severity"]
            )
            failure.text = _details(result)
        elif status == "error":
            error = ET.SubElement(case, "error", message=evidence or "could not be decided", type="undecided")
            error.text = _details(result)
        elif status == "skip":
            ET.SubElement(case, "skipped", message=evidence)
        elif status == "waived" and result["waiver"] is not None:
            ET.SubElement(case, "skipped", message=f"waived: {result['waiver']['reason']}")
        if status == "pass" and evidence:
            ET.SubElement(case, "system-out").text = evidence
    ET.indent(suites)
    return ET.tostring(suites, encoding="unicode", xml_declaration=True) + "\n"
