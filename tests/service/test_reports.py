"""Reports, findings, exposure and instances (service/routes/reports.py, findings.py, instances.py): the
CLI's documents are kept with their history, findings come from vuln reports and are found by alias,
and exposure names the images and the instances running them."""

from __future__ import annotations

from tests.service.api import AUDIT, PACKAGES, VULN, Api


def test_reports_findings_exposure_and_instances(api: Api) -> None:
    image = api.call("POST", "/api/v1/images", json={"cloud": "gcp", "image_id": "debian-cloud/x"}).json()[
        "id"
    ]
    for document in (AUDIT, PACKAGES, VULN, VULN):
        assert api.call("POST", f"/api/v1/images/{image}/reports", json=document).status_code == 201
    bad = api.call("POST", f"/api/v1/images/{image}/reports", json={"schema": "other"})
    assert bad.status_code == 422 and "schema must be one of" in bad.json()["error"]
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {api.tokens['write']}"}
    broken = api.client.post(f"/api/v1/images/{image}/reports", content=b"{not json", headers=headers)
    assert broken.status_code in (400, 422)
    history = api.call("GET", f"/api/v1/images/{image}/reports", scope="read").json()
    assert [r["schema"] for r in history] == [
        "imagevet/audit/v1",
        "imagevet/packages/v1",
        "imagevet/vuln/v1",
        "imagevet/vuln/v1",
    ]
    findings = api.call("GET", "/api/v1/findings?package=bash", scope="read").json()
    assert [(f["vuln_id"], f["origin"]) for f in findings] == [
        ("DSA-9002-1", "report")
    ]  # waived one left out
    assert (
        api.call("GET", "/api/v1/findings?vuln=CVE-2026-2222", scope="read").json()[0]["vuln_id"]
        == "DSA-9002-1"
    )
    instance = {"cloud": "gcp", "instance_id": "vm-1", "image_id": "debian-cloud/x"}
    assert api.call("POST", "/api/v1/instances", json=instance).status_code == 201
    assert api.call("POST", "/api/v1/instances", json={**instance, "image_id": "nope"}).status_code == 422
    exposure = api.call("GET", "/api/v1/exposure/CVE-2026-2222", scope="read").json()
    assert [i["id"] for i in exposure["images"]] == [image] and exposure["instances"][0][
        "instance_id"
    ] == "vm-1"
    detail = api.call("GET", f"/api/v1/images/{image}", scope="read").json()
    assert (
        detail["audit"]["fail"] == 2
        and detail["vulnerabilities"] == {"high": 1}
        and detail["instances"] == ["vm-1"]
    )
