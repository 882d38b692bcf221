"""End to end over real HTTP(S): `imagevet token create`, `imagevet serve` on 127.0.0.1 (uvicorn), and
`imagevet push` of the CLI's own audit report; a restart keeps what was committed; request bodies are
bounded; TLS with a certificate made by openssl."""

from __future__ import annotations

import http.client
import json
import os
import socket
import ssl
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from tests.support.cli import run_imagevet
from tests.support.serve import get, server


def test_token_serve_push_and_restart(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'inventory.sqlite3'}"
    env = {**os.environ, "IMAGEVET_DATA_DIR": str(tmp_path / "data")}
    write = run_imagevet("token", "create", "--scope", "write", "--database-url", url, env=env).stdout.strip()
    read = run_imagevet("token", "create", "--scope", "read", "--database-url", url, env=env).stdout.strip()
    assert write.startswith("ivt_") and read.startswith("ivt_") and write != read
    assert write not in (tmp_path / "inventory.sqlite3").read_bytes().decode(
        "latin-1"
    )  # stored as digest only
    report = tmp_path / "audit.json"
    report.write_text(json.dumps({"schema": "imagevet/audit/v1", "summary": {"pass": 3, "fail": 1}}))
    with server(url, env) as base:
        pushed = run_imagevet(
            "push",
            str(report),
            "--server",
            base,
            "--token",
            write,
            "--image-id",
            "ami-0a1b2c3d4e5f60001",
            "--cloud",
            "aws",
            "--register",
            env=env,
        )
        assert pushed.returncode == 0 and "pushed imagevet/audit/v1" in pushed.stdout, pushed.stderr
        denied = run_imagevet(
            "push",
            str(report),
            "--server",
            base,
            "--token",
            read,
            "--image-id",
            "ami-0a1b2c3d4e5f60001",
            "--cloud",
            "aws",
            env=env,
        )
        assert denied.returncode == 2 and "HTTP 403" in denied.stderr
        unknown = run_imagevet(
            "push",
            str(report),
            "--server",
            base,
            "--token",
            write,
            "--image-id",
            "ami-y",
            "--cloud",
            "aws",
            env=env,
        )
        assert unknown.returncode == 2 and "not registered" in unknown.stderr
    with server(url, env) as base:  # a restart loses nothing committed
        images = get(base, "/api/v1/images", read)
        assert isinstance(images, list) and images[0]["image_id"] == "ami-0a1b2c3d4e5f60001"
        detail = get(base, f"/api/v1/images/{images[0]['id']}", read)
        assert isinstance(detail, dict) and detail["audit"] == {"pass": 3, "fail": 1}
    down = run_imagevet(
        "push",
        str(report),
        "--server",
        "http://127.0.0.1:9",
        "--token",
        write,
        "--image-id",
        "x",
        "--cloud",
        "aws",
    )
    assert (
        down.returncode == 2 and "cannot reach" in down.stderr and len(down.stderr.strip().splitlines()) == 1
    )


def test_push_from_commands_and_rescan_after_db_update(debian_root: Path, tmp_path: Path) -> None:
    """The closed loop: CI pushes with --push; `db update --rescan` (from an OSV mirror on 127.0.0.1)
    makes the service re-match the stored inventory and flag the image."""
    import zipfile

    from tests.conftest import FIXTURES
    from tests.service.api import PACKAGES
    from tests.support.http_server import serve as serve_files

    url = f"sqlite:///{tmp_path / 'inventory.sqlite3'}"
    advisories = tmp_path / "osv.sqlite3"
    env = {**os.environ, "IMAGEVET_DATA_DIR": str(tmp_path / "data"), "IMAGEVET_DB": str(advisories)}
    token = run_imagevet("token", "create", "--scope", "write", "--database-url", url, env=env).stdout.strip()
    mirror = tmp_path / "mirror"
    (mirror / "Debian").mkdir(parents=True)
    with zipfile.ZipFile(mirror / "Debian/all.zip", "w") as archive:
        archive.write(FIXTURES / "osv/DSA-9001-1.json", "DSA-9001-1.json")
    packages = tmp_path / "packages.json"
    packages.write_text(json.dumps(PACKAGES))
    with server(url, env) as base:
        audited = run_imagevet(
            "audit",
            str(debian_root),
            "-f",
            "json",
            "-o",
            str(tmp_path / "audit.json"),
            "--as-of",
            "2026-11-28",
            "--push",
            base,
            "--token",
            token,
            "--image-id",
            "ami-loop",
            "--cloud",
            "onprem",
            "--fail-on",
            "never",
            env=env,
        )
        assert audited.returncode == 0 and "pushed imagevet/audit/v1" in audited.stderr, audited.stderr
        push = ["push", str(packages), "--server", base, "--token", token, "--image-id", "ami-loop"]
        pushed = run_imagevet(*push, "--cloud", "onprem", env=env)
        assert pushed.returncode == 0, pushed.stderr
        with serve_files(mirror) as osv:
            updated = run_imagevet("db", "update", "-e", "Debian", "--base-url", osv, "--rescan", base,
                                   "--token", token, env=env)  # fmt: skip
        assert updated.returncode == 0 and "rescan requested" in updated.stderr, updated.stderr
        job = updated.stderr.rsplit("job ", 1)[1].strip()
        for _ in range(100):
            state = get(base, f"/api/v1/jobs/{job}", token)
            if isinstance(state, dict) and state["status"] == "done":
                break
            time.sleep(0.1)
        assert isinstance(state, dict) and len(state["result"]["newly_exposed"]) == 1
        exposure = get(base, "/api/v1/exposure/CVE-2026-1111", token)
        assert isinstance(exposure, dict) and exposure["images"][0]["image_id"] == "ami-loop"
        missing = run_imagevet("packages", str(debian_root), "-f", "json", "--push", base, env=env)
        assert missing.returncode == 2 and "--push needs --token" in missing.stderr


def raw_request(base: str, head: str, body: bytes = b"") -> str:
    """Send bytes as they are (a malformed or streamed request) and return the status line."""
    host, port = base.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(head.encode() + b"\r\n" + body)
        return sock.makefile("rb").readline().decode().strip()


def test_request_bodies_are_bounded(tmp_path: Path) -> None:
    """Over IMAGEVET_MAX_BODY_MB: 413 whether the length is declared or the body is streamed in chunks;
    a Content-Length that is not a number: 400. Nothing is stored, and the server keeps serving."""
    url = f"sqlite:///{tmp_path / 'inventory.sqlite3'}"
    env = {**os.environ, "IMAGEVET_DATA_DIR": str(tmp_path / "data"), "IMAGEVET_MAX_BODY_MB": "0.01"}
    write = run_imagevet("token", "create", "--scope", "write", "--database-url", url, env=env).stdout.strip()
    with server(url, env) as base:
        auth = f"Authorization: Bearer {write}\r\nContent-Type: application/json\r\n"
        big = json.dumps({"cloud": "aws", "image_id": "ami-big", "name": "x" * 20_000}).encode()
        declared = f"POST /api/v1/images HTTP/1.1\r\nHost: t\r\n{auth}Content-Length: {len(big)}\r\n"
        assert " 413 " in raw_request(base, declared, big)
        chunks = b"".join(
            b"%x\r\n%s\r\n" % (len(big[i : i + 4096]), big[i : i + 4096]) for i in range(0, len(big), 4096)
        )
        streamed = f"POST /api/v1/images HTTP/1.1\r\nHost: t\r\n{auth}Transfer-Encoding: chunked\r\n"
        assert " 413 " in raw_request(base, streamed, chunks + b"0\r\n\r\n")
        bad = f"POST /api/v1/images HTTP/1.1\r\nHost: t\r\n{auth}Content-Length: 12abc\r\n"
        assert " 400 " in raw_request(base, bad, b"{}")
        small = json.dumps({"cloud": "aws", "image_id": "ami-small"}).encode()
        fine = f"POST /api/v1/images HTTP/1.1\r\nHost: t\r\n{auth}Content-Length: {len(small)}\r\n"
        assert " 201 " in raw_request(base, fine, small)
        assert [i["image_id"] for i in get(base, "/api/v1/images", write)] == ["ami-small"]  # type: ignore[union-attr]


def self_signed(directory: Path, name: str) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 made by openssl (the tool, not a library)."""
    cert, key = directory / f"{name}.pem", directory / f"{name}.key"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
         "-keyout", str(key), "-out", str(cert), "-days", "2", "-subj", "/CN=imagevet-test",
         "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    return cert, key


def test_https_with_the_services_certificate(tmp_path: Path) -> None:
    """`serve --tls-cert --tls-key`: push over HTTPS trusting the certificate (SSL_CERT_FILE); a client that
    does not trust it is refused with one line; mismatched or half-given TLS files are refused at start."""
    url = f"sqlite:///{tmp_path / 'inventory.sqlite3'}"
    env = {**os.environ, "IMAGEVET_DATA_DIR": str(tmp_path / "data")}
    write = run_imagevet("token", "create", "--scope", "write", "--database-url", url, env=env).stdout.strip()
    cert, key = self_signed(tmp_path, "service")
    other_cert, _ = self_signed(tmp_path, "other")
    half = run_imagevet("serve", "--database-url", url, "--tls-cert", str(cert), env=env)
    assert half.returncode == 2 and "--tls-cert and --tls-key go together" in half.stderr
    mismatched = run_imagevet(
        "serve", "--database-url", url, "--tls-cert", str(other_cert), "--tls-key", str(key)
    )
    assert mismatched.returncode == 2 and "do not load as a certificate and its key" in mismatched.stderr
    assert len(mismatched.stderr.strip().splitlines()) == 1

    context = ssl.create_default_context(cafile=str(cert))
    tls = ("--tls-cert", str(cert), "--tls-key", str(key))
    with server(url, env, tls, context) as base:
        report = tmp_path / "audit.json"
        report.write_text(json.dumps({"schema": "imagevet/audit/v1", "summary": {"pass": 1}}))
        args = [
            "push",
            str(report),
            "--server",
            base,
            "--token",
            write,
            "--image-id",
            "ami-tls",
            "--cloud",
            "aws",
            "--register",
        ]
        trusted = run_imagevet(*args, env={**env, "SSL_CERT_FILE": str(cert)})
        assert trusted.returncode == 0, trusted.stderr
        untrusted = run_imagevet(*args, env=env)
        assert untrusted.returncode == 2 and "CERTIFICATE_VERIFY_FAILED" in untrusted.stderr
        assert len(untrusted.stderr.strip().splitlines()) == 1
        with pytest.raises((OSError, http.client.HTTPException)):  # no plain HTTP on the TLS port
            urllib.request.urlopen(base.replace("https://", "http://") + "/health", timeout=5).close()
