"""`/api/v1/images` (service/routes/images.py): registering with a parent, duplicates and unknown clouds,
filters, remediation moving forward only, lifecycle and replacement from the catalog, 404."""

from __future__ import annotations

from tests.service.api import Api


def test_images_lifecycle(api: Api) -> None:
    base = api.call(
        "POST",
        "/api/v1/images",
        json={"cloud": "aws", "image_id": "ami-base", "release": "debian-12", "layer": "base"},
    )
    assert base.status_code == 201
    app = api.call(
        "POST",
        "/api/v1/images",
        json={"cloud": "aws", "image_id": "ami-app", "layer": "app", "parent": "ami-base"},
    )
    assert app.json()["parent_id"] == base.json()["id"]
    assert (
        api.call("POST", "/api/v1/images", json={"cloud": "aws", "image_id": "ami-base"}).status_code == 409
    )
    assert api.call("POST", "/api/v1/images", json={"cloud": "mars", "image_id": "x"}).status_code == 422
    assert (
        api.call(
            "POST", "/api/v1/images", json={"cloud": "aws", "image_id": "x", "parent": "nope"}
        ).status_code
        == 422
    )
    listed = api.call("GET", "/api/v1/images?release=debian-12", scope="read").json()
    assert [i["image_id"] for i in listed] == ["ami-base"]
    image = base.json()["id"]
    assert (
        api.call("PATCH", f"/api/v1/images/{image}", json={"remediation": "rebuilding"}).json()["remediation"]
        == "rebuilding"
    )
    assert api.call("PATCH", f"/api/v1/images/{image}", json={"remediation": "open"}).status_code == 409
    assert api.call("PATCH", f"/api/v1/images/{image}", json={"remediation": "gone"}).status_code == 422
    assert api.call("GET", "/api/v1/images?remediation=rebuilding", scope="read").json()[0]["id"] == image
    old = api.call(
        "POST", "/api/v1/images", json={"cloud": "aws", "image_id": "ami-old", "release": "amzn-2"}
    )
    ended = api.call("GET", "/api/v1/images?lifecycle=end-of-life", scope="read").json()
    assert [i["image_id"] for i in ended] == ["ami-old"] and ended[0]["support_days_left"] < 0
    detail = api.call("GET", f"/api/v1/images/{old.json()['id']}", scope="read").json()
    # Amazon Linux 2 ended 2026-06-30 with no paid tier (Debian 11 would be extended-only: Freexian ELTS).
    assert detail["lifecycle"] == "end-of-life" and detail["replacement"] == "amzn-2023"
    assert api.call("GET", "/api/v1/images/999999", scope="read").status_code == 404
