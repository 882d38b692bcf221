"""JUnit XML: one testcase per check, so CI systems show the audit like a test run.

fail -> <failure>, error -> <error>, skip and waived -> <skipped> (with the reason), pass -> plain testcase.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from imagevet.model import CheckResult, Report, Status


def _details(result: CheckResult) -> str:
    lines = [f"severity: {result.severity.value}", "evidence:"]
    lines += [f"  - {e}" for e in result.evidence]
    if result.remediation:
        lines.append("remediation:")
        for step in result.remediation:
            if step.kind == "note":
                lines.append(f"  - {step.text}")
            elif step.kind == "file":
                lines.append(f"  - write {step.path}:")
                lines += [f"      {line}" for line in step.text.splitlines()]
            else:
                lines.append(f"  - run: {step.text}")
    return "\n".join(lines)


def render_junit(report: Report) -> str:
    summary = report.summary()
    name = f"imagevet audit {report.target.path}"
    suites = ET.Element("testsuites", name=name)
    suite = ET.SubElement(
        suites,
        "testsuite",
        name=name,
        tests=str(len(report.results)),
        failures=str(summary["fail"]),
        errors=str(summary["error"]),
        skipped=str(summary["skip"] + summary["waived"]),
        timestamp=report.as_of.isoformat(),
    )
    for result in report.results:
        case = ET.SubElement(
            suite,
            "testcase",
            classname=f"imagevet.{result.check.split('-')[0]}",
            name=f"{result.check}: {result.title}",
        )
        evidence = "; ".join(str(e) for e in result.evidence)
        if result.status is Status.FAIL:
            failure = ET.SubElement(
                case, "failure", message=evidence or result.title, type=result.severity.value
            )
            failure.text = _details(result)
        elif result.status is Status.ERROR:
            error = ET.SubElement(case, "error", message=evidence or "could not be decided", type="undecided")
            error.text = _details(result)
        elif result.status is Status.SKIP:
            ET.SubElement(case, "skipped", message=evidence)
        elif result.status is Status.WAIVED and result.waiver is not None:
            ET.SubElement(case, "skipped", message=f"waived: {result.waiver.reason}")
        if result.status is Status.PASS and evidence:
            ET.SubElement(case, "system-out").text = evidence
    ET.indent(suites)
    return ET.tostring(suites, encoding="unicode", xml_declaration=True) + "\n"
