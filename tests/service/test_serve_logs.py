"""What a real `imagevet serve` writes to stderr: the start-up line (address, database location without
credentials, auth mode), one access line a request (method, path, status, duration), and never a secret a
request carried (bearer token, cookie, query values such as a signed URL's signature, the sign-in form's
body); `--log-level warning` keeps only warnings and errors."""

from __future__ import annotations

import os
import re
import signal
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from imagevet.service.logs import LEVELS, log_config, shown_query
from imagevet.service.migrate import location
from tests.service.http import call
from tests.support.cli import run_imagevet
from tests.support.serve import Served, serving

SIGNATURE = "c2lnbmF0dXJlLXRoYXQtbXVzdC1ub3QtbGVhaw"
COOKIE = "cookie-secret-4d1f9a"
ACCESS = re.compile(r"^imagevet: access: 127\.0\.0\.1 (\S+) (\S+) (\d{3}) (\d+\.\d)ms$", re.M)


def until(served: Served, found: Callable[[str], bool], what: str) -> str:
    """The log once ``found`` holds (lines are written just after the answer is sent)."""
    for _ in range(100):
        text = served.log()
        if found(text):
            return text
        time.sleep(0.05)
    raise AssertionError(f"no {what} in the log:\n{served.log()}")


def stopped(served: Served) -> str:
    served.proc.send_signal(signal.SIGTERM)
    assert served.proc.wait(timeout=20) == 0
    return served.log()


def test_startup_and_access_lines_carry_no_secret(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'inventory.sqlite3'}"
    env = {**os.environ, "IMAGEVET_DATA_DIR": str(tmp_path / "data")}
    token = run_imagevet("token", "create", "--scope", "write", "--database-url", url, env=env).stdout.strip()
    with serving(url, env) as served:
        port = served.base.rsplit(":", 1)[1]
        startup = until(served, lambda t: "listening on" in t, "start-up line").splitlines()[0]
        assert startup == (
            f"imagevet: INFO: imagevet.service.serve: listening on http://127.0.0.1:{port}; "
            f"database {url}; auth: bearer tokens (1); jobs: in-process"
        )
        assert call(served.base, "GET", "/api/v1/images?cloud=aws", token).status == 200
        signed = f"/api/v1/images?image_id=ami-1&X-Amz-Signature={SIGNATURE}&{SIGNATURE}"
        cookie = {"Cookie": f"imagevet_session={COOKIE}"}
        assert call(served.base, "GET", signed, token, headers=cookie).status == 200
        assert call(served.base, "GET", "/api/v1/images").status == 401  # refused by the guard: logged too
        assert call(served.base, "POST", "/login", raw=f"token={token}&nonce=x".encode()).status == 403
        forged = "/api/v1/exposure/CVE-1%0Aimagevet:%20access:%20forged%0D"
        assert call(served.base, "GET", forged, token).status == 200
        log = until(served, lambda t: "/api/v1/exposure/" in t, "the last access line")
    lines = [m[:3] for m in ACCESS.findall(log)]
    assert ("GET", "/api/v1/images?cloud=***", "200") in lines
    assert ("GET", "/api/v1/images?image_id=***&X-Amz-Signature=***&***", "200") in lines
    assert ("GET", "/api/v1/images", "401") in lines and ("POST", "/login", "403") in lines
    assert ("GET", "/api/v1/exposure/CVE-1%0Aimagevet:%20access:%20forged%0D", "200") in lines
    assert not re.search(r"^imagevet: access: forged", log, re.M)  # a path cannot write a line
    for secret in (token, SIGNATURE, COOKIE, "Bearer", "ami-1"):
        assert secret not in log, secret


def test_log_level_warning_keeps_access_and_startup_lines_out(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'inventory.sqlite3'}"
    env = {**os.environ, "IMAGEVET_DATA_DIR": str(tmp_path / "data")}
    token = run_imagevet("token", "create", "--scope", "read", "--database-url", url, env=env).stdout.strip()
    with serving(url, env, ("--log-level", "warning")) as served:
        for path in ("/api/v1/images", "/api/v1/jobs", "/health"):
            assert call(served.base, "GET", path, token).status == 200
        log = stopped(served)
    assert "imagevet: access:" not in log and "listening on" not in log, log
    bad = run_imagevet("serve", "--database-url", url, "--log-level", "loud", env=env)
    assert bad.returncode == 2 and bad.stderr.strip() == (
        "imagevet: error: --log-level 'loud' (choose from: critical, error, warning, info, debug)"
    )


def test_the_database_location_names_no_credentials() -> None:
    url = "postgresql+psycopg://imagevet:s3cret@db.example:5432/inventory?sslpassword=k3y&sslmode=require"
    assert location(url) == "postgresql+psycopg://db.example:5432/inventory"
    assert (
        location("sqlite:////var/lib/imagevet/inventory.sqlite3")
        == "sqlite:////var/lib/imagevet/inventory.sqlite3"
    )
    assert location("not a url") == "(unparsable URL)"


@pytest.mark.parametrize(
    ("query", "shown"),
    [
        ("cloud=aws", "cloud=***"),
        ("a=1&b=&c", "a=***&b=***&***"),
        ("X-Amz-Credential=AKIA%2F&X-Amz-Signature=ab", "X-Amz-Credential=***&X-Amz-Signature=***"),
        ("ivt_secret%3D=1", "***"),  # a name that is not plain may be the secret itself
    ],
)
def test_query_values_are_redacted(query: str, shown: str) -> None:
    assert shown_query(query) == shown


def test_levels_are_what_uvicorn_and_logging_know() -> None:
    import logging

    from uvicorn.config import LOG_LEVELS

    assert set(LEVELS) <= set(LOG_LEVELS)
    for level in LEVELS:
        config = log_config(level)
        assert (
            logging.getLevelName(config["loggers"]["imagevet.service.access"]["level"]) == LOG_LEVELS[level]
        )
    assert log_config("info")["loggers"]["uvicorn"]["level"] == "WARNING"  # its info lines repeat ours
    with pytest.raises(ValueError):
        log_config("loud")


def test_the_startup_line_names_tls_proxies_the_queue_and_a_missing_token() -> None:
    from imagevet.service.logs import startup_line

    assert startup_line("::1", 8443, True, "postgresql+psycopg://db/inventory", 0, True, "10.0.0.1") == (
        "listening on https://[::1]:8443; database postgresql+psycopg://db/inventory; "
        "auth: bearer tokens (none yet: imagevet token create); X-Forwarded-For trusted from 10.0.0.1; "
        "jobs: imagevet worker (queue)"
    )
