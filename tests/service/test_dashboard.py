"""The dashboard in a real browser: Debian's Chromium driven by Playwright against `imagevet serve`,
with data pushed the way CI pushes it. Screenshots go to test-artifacts/ (kept by CI)."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import PROJECT
from tests.service import api as api_documents
from tests.service.api import make_api, sign_in
from tests.support.advisories import fresh_stamp
from tests.support.cli import run_imagevet
from tests.support.serve import server

ARTIFACTS = Path(os.environ.get("IMAGEVET_TEST_ARTIFACTS", PROJECT / "test-artifacts"))
AUDIT = {
    "schema": "imagevet/audit/v1",
    "summary": {"pass": 1, "fail": 1, "skip": 0, "error": 0, "waived": 0},
    "results": [
        {
            "check": "ssh-root-login",
            "status": "fail",
            "severity": "high",
            "title": "SSH does not allow root to log in",
            "evidence": [{"detail": "permitrootlogin yes", "path": "/etc/ssh/sshd_config", "line": 3}],
            "remediation": [{"kind": "command", "run": "sed -i s/yes/no/ /etc/ssh/sshd_config", "note": ""}],
        },
        {
            "check": "ssh-password-auth",
            "status": "pass",
            "severity": "high",
            "title": "SSH accepts keys only",
            "evidence": [],
            "remediation": [],
        },
    ],
}
VULN = {
    "schema": "imagevet/vuln/v1",
    "findings": [
        {
            "id": "DSA-9001-1",
            "aliases": ["CVE-2026-1111"],
            "package": "openssh-client",
            "installed": "1:9.2p1-2+deb12u4",
            "fixed": "1:9.2p1-2+deb12u5",
            "severity": "critical",
        },
        {
            "id": "DSA-9002-1",
            "aliases": ["CVE-2026-2222"],
            "package": "bash",
            "installed": "5.2.15-2+b7",
            "fixed": None,
            "severity": "medium",
        },
    ],
}


def chromium() -> str:
    found = shutil.which("chromium")
    if found is None:
        pytest.skip("chromium (Debian package) is not installed")
    return found


def api(base: str, token: str, method: str, path: str, body: object) -> object:
    request = urllib.request.Request(base + path, data=json.dumps(body).encode(), method=method)
    request.add_header("Authorization", f"Bearer {token}")
    request.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def test_dashboard_in_chromium(tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    executable = chromium()
    url = f"sqlite:///{tmp_path / 'inventory.sqlite3'}"
    env = {**os.environ, "IMAGEVET_DATA_DIR": str(tmp_path / "data")}
    write = run_imagevet("token", "create", "--scope", "write", "--database-url", url, env=env).stdout.strip()
    read = run_imagevet("token", "create", "--scope", "read", "--database-url", url, env=env).stdout.strip()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with server(url, env) as base:
        old = api(
            base,
            write,
            "POST",
            "/api/v1/images",
            {"cloud": "aws", "image_id": "ami-old", "release": "amzn-2", "layer": "base"},
        )
        api(
            base,
            write,
            "POST",
            "/api/v1/images",
            {"cloud": "aws", "image_id": "ami-new", "release": "debian-12"},
        )
        assert isinstance(old, dict)
        for document in (AUDIT, VULN):
            api(base, write, "POST", f"/api/v1/images/{old['id']}/reports", document)
        api(
            base,
            write,
            "POST",
            "/api/v1/instances",
            {"cloud": "aws", "instance_id": "i-0abc", "image_id": "ami-old"},
        )

        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=executable, args=["--no-sandbox"])
            page = browser.new_page(viewport={"width": 1280, "height": 1000})
            page.goto(base + "/")
            assert page.url.endswith("/login")  # no token, no dashboard
            page.fill("input[name=token]", "ivt_wrong")
            page.click("button[type=submit]")
            assert "not valid" in page.inner_text("#error")
            page.fill("input[name=token]", read)
            page.click("button[type=submit]")
            page.wait_for_selector("#card-images")
            assert page.inner_text("#card-images b") == "2" and page.inner_text("#card-findings b") == "2"
            assert page.locator("#chart-severity rect").count() == 5
            # Over time: today's bar, stacked by severity, totals the two findings.
            stacked = page.eval_on_selector_all(
                "#chart-per-day rect", "els => els.map(e => e.dataset.severity)"
            )
            assert stacked and set(stacked) <= {"critical", "high", "medium", "low", "unknown"}
            assert page.locator("#chart-per-day text").nth(1).text_content() == "2"
            nearing = page.inner_text("#nearing tbody")
            assert "ami-old" in nearing and "end-of-life" in nearing and "ami-new" not in nearing
            assert "amzn-2023" in nearing  # the replacement: the supported Amazon Linux, longest support
            page.screenshot(path=str(ARTIFACTS / "dashboard-overview.png"), full_page=True)

            page.fill("input[data-filter=images]", "ami-new")
            assert page.locator("#images tbody tr:visible").count() == 1  # the inline filter script ran

            page.click("text=aws ami-old >> nth=0")
            page.wait_for_selector("#findings")
            assert "CVE-2026-1111" in page.inner_text("#findings") and "i-0abc" in page.inner_text(
                "#instances"
            )
            assert "ssh-root-login" in page.inner_text("#results")
            assert page.inner_text("#replacement").startswith("Recommended replacement: amzn-2023")
            page.screenshot(path=str(ARTIFACTS / "dashboard-image.png"), full_page=True)
            browser.close()
    assert (ARTIFACTS / "dashboard-overview.png").stat().st_size > 10_000


def test_standalone_reports_open_offline_in_chromium(debian_root: Path, tmp_path: Path) -> None:
    """`audit --format html` and `vuln --format html`: self-contained files (no external resources) that
    render from file:// with the filter script working."""
    from playwright.sync_api import sync_playwright

    from imagevet.vuln.importer import ImportStats, import_into, iter_inputs
    from tests.conftest import FIXTURES

    executable = chromium()
    audit_page, vuln_page = tmp_path / "audit.html", tmp_path / "vuln.html"
    made = run_imagevet(
        "audit", str(debian_root), "-f", "html", "-o", str(audit_page), "--as-of", "2026-11-28"
    )
    assert made.returncode == 1 and audit_page.read_text().startswith("<!DOCTYPE html>")
    database = tmp_path / "osv.sqlite3"
    sources = [FIXTURES / "osv" / name for name in ("DSA-9001-1.json", "DSA-9002-1.json")]
    import_into(database, iter_inputs(sources, ImportStats()), "test", fresh_stamp())
    run_imagevet("vuln", str(debian_root), "--db", str(database), "-f", "html", "-o", str(vuln_page))
    for page_file in (audit_page, vuln_page):
        text = page_file.read_text()
        assert 'src="http' not in text and 'href="http' not in text and "<link" not in text
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(audit_page.as_uri())
        assert page.inner_text("#count-fail b") == str(len(page.locator("tr.result-fail").all()))
        page.fill("input[data-filter=results]", "ssh-root-login")
        assert page.locator("#results tbody tr:visible").count() == 1
        page.screenshot(path=str(ARTIFACTS / "audit-report.png"), full_page=True)
        page.goto(vuln_page.as_uri())
        assert page.locator("#by-severity rect").count() == 5
        page.screenshot(path=str(ARTIFACTS / "vuln-report.png"), full_page=True)
        browser.close()


def test_dashboard_pages_render_on_both_databases(database_url: str) -> None:
    """The overview groups findings by day in SQL (date() on SQLite and PostgreSQL alike)."""
    api = make_api(database_url)
    image = api.call("POST", "/api/v1/images", json={"cloud": "aws", "image_id": "ami-d"}).json()["id"]
    api.call("POST", f"/api/v1/images/{image}/reports", json=api_documents.VULN)
    sign_in(api.client, api.tokens["read"])
    overview = api.client.get("/", follow_redirects=False)
    assert overview.status_code == 200, overview.text
    today = dt.datetime.now(dt.UTC).date().isoformat()
    assert 'id="chart-per-day"' in overview.text and today in overview.text
    assert 'data-severity="high"' in overview.text
    detail = api.client.get(f"/images/{image}", follow_redirects=False)
    assert detail.status_code == 200 and "DSA-9002-1" in detail.text
