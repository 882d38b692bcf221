"""Commands of the inventory service: serve, worker, token, push."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import signal
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

from imagevet.cli.common import (
    ListFormat,
    app,
    data_dir,
    db_path,
    notice,
    open_advisories,
    read_user_file,
    write_output,
)
from imagevet.cli.declare import Argument, Option, Typer
from imagevet.errors import ImagevetError
from imagevet.service.logs import LEVELS
from imagevet.service.vocabulary import CLOUDS, SCOPES, listed

SshIdentityOption = Annotated[
    Path | None,
    Option("--ssh-identity", envvar="IMAGEVET_SSH_IDENTITY", help="SSH key for ssh:// audit jobs."),
]
SshKnownHostsOption = Annotated[
    Path | None,
    Option("--ssh-known-hosts", envvar="IMAGEVET_SSH_KNOWN_HOSTS", help="known_hosts for ssh:// audit jobs."),
]


JobTimeLimitOption = Annotated[
    float,
    Option(
        "--job-time-limit", envvar="IMAGEVET_JOB_TIME_LIMIT", min=1, max=7 * 24 * 3600,
        help="Seconds a job may run (per attempt) before it is stopped and failed.",
    ),
]  # fmt: skip
JobAttemptsOption = Annotated[
    int,
    Option(
        "--job-attempts", envvar="IMAGEVET_JOB_ATTEMPTS", min=1, max=100,
        help="Attempts at a job whose process keeps dying before it is failed.",
    ),
]  # fmt: skip


def _ignore(signum: int, frame: Any) -> None:
    """uvicorn re-raises the signal it stopped on, once it has shut down, with the handler it found: this
    one, so `serve` then returns normally (exit 0) rather than dying by the signal."""


def _interrupt(signum: int, frame: Any) -> None:
    """Outside procrastinate's own handling (before the worker starts, or a second signal): unwind."""
    raise KeyboardInterrupt


@contextlib.contextmanager
def service_process(on_signal: Any = _ignore, log_level: str = "warning") -> Iterator[None]:
    """What `serve` and `worker` run inside: SIGTERM stops them as Ctrl-C does (uvicorn and procrastinate
    shut down gracefully, jobs are handed back, this returns and the command exits 0), the service's
    log (service/logs.py: access lines, a job's traceback) goes to stderr at ``log_level``, and every
    temporary file the process makes lands in a private directory removed on the way out, whatever a
    job left behind."""
    import logging.config

    from imagevet.service.logs import configured_loggers, log_config

    config = log_config(log_level)
    logging.config.dictConfig(config)
    scratch = tempfile.mkdtemp(prefix="imagevet-service-")
    saved = tempfile.tempdir, os.environ.get("TMPDIR")
    tempfile.tempdir, os.environ["TMPDIR"] = scratch, scratch
    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)
        tempfile.tempdir = saved[0]
        if saved[1] is None:
            os.environ.pop("TMPDIR", None)
        else:
            os.environ["TMPDIR"] = saved[1]
        shutil.rmtree(scratch, ignore_errors=True)
        for logger in configured_loggers(config):
            logger.handlers.clear()


def service_ssh(identity: Path | None, known_hosts: Path | None) -> Any:
    """The service's own SSH options for audit jobs (ssh config and ~/.ssh when not given)."""
    from imagevet.target.ssh import SshOptions

    for path in (identity, known_hosts):
        if path is not None and not path.is_file():
            raise ImagevetError(f"{path} is not a readable file")
    return SshOptions(
        identity=str(identity) if identity else None, known_hosts=str(known_hosts) if known_hosts else None
    )


def tls_options(cert: Path | None, key: Path | None) -> tuple[str | None, str | None]:
    """uvicorn's TLS settings, checked first: both files or neither, and they must load as a pair, so a
    wrong file is one line now rather than a failure at the first connection."""
    if cert is None and key is None:
        return None, None
    if cert is None or key is None:
        raise ImagevetError("--tls-cert and --tls-key go together")
    import ssl

    try:
        ssl.create_default_context(ssl.Purpose.CLIENT_AUTH).load_cert_chain(str(cert), str(key))
    except FileNotFoundError as exc:
        raise ImagevetError(f"{exc.filename}: no such file") from None
    except (ssl.SSLError, OSError) as exc:
        raise ImagevetError(f"--tls-cert/--tls-key do not load as a certificate and its key: {exc}") from None
    return str(cert), str(key)


def check_listen(host: str, port: int) -> None:
    """Bind once as uvicorn will (SO_REUSEADDR), so an address in use or not ours is one line and exit 2
    before anything starts, rather than uvicorn's own message and exit 3."""
    import socket

    try:
        family, kind, _, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    except socket.gaierror as exc:
        raise ImagevetError(f"--host {host}: {exc.strerror}") from None
    with socket.socket(family, kind) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(address)
        except OSError as exc:
            raise ImagevetError(f"cannot listen on {host}:{port}: {exc.strerror}") from None


def default_database_url() -> str:
    return f"sqlite:///{data_dir() / 'inventory.sqlite3'}"


def inventory_sessions(database_url: str | None) -> tuple[str, Any]:
    """The inventory database (``--database-url``, else SQLite in the data dir), migrated to the current
    schema, and a session factory for it. Every service command starts here."""
    from imagevet.service.db import make_engine, sessions
    from imagevet.service.migrate import upgrade

    url = database_url or default_database_url()
    data_dir().mkdir(parents=True, exist_ok=True)
    upgrade(url)
    return url, sessions(make_engine(url))


@app.command()
def serve(
    database_url: Annotated[
        str | None, Option("--database-url", help="SQLAlchemy URL (default: SQLite in the data dir).")
    ] = None,
    host: Annotated[str, Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, Option("--port", min=1, max=65535, help="Port.")] = 8000,
    db: Annotated[Path | None, Option("--db", help="Advisory database (default: $IMAGEVET_DB).")] = None,
    queue: Annotated[
        bool,
        Option("--queue", help="Run jobs on `imagevet worker`s (PostgreSQL) instead of in-process."),
    ] = False,
    ssh_identity: SshIdentityOption = None,
    ssh_known_hosts: SshKnownHostsOption = None,
    tls_cert: Annotated[
        Path | None, Option("--tls-cert", help="Serve HTTPS with this PEM certificate (chain).")
    ] = None,
    tls_key: Annotated[Path | None, Option("--tls-key", help="The certificate's PEM private key.")] = None,
    forwarded_allow_ips: Annotated[
        str | None,
        Option(
            "--forwarded-allow-ips",
            envvar="IMAGEVET_FORWARDED_ALLOW_IPS",
            help="Comma-separated addresses of reverse proxies whose X-Forwarded-For and -Proto are "
            "trusted. Without it the TCP peer is the client (rate limits, Secure cookies).",
        ),
    ] = None,
    job_time_limit: JobTimeLimitOption = 3600.0,
    job_attempts: JobAttemptsOption = 3,
    log_level: Annotated[
        str,
        Option(
            "--log-level",
            metavar="LEVEL",
            help=f"What goes to stderr: {listed(LEVELS)}. info: a start-up line and one access line a "
            "request (never a token, a cookie or a query value); warning: warnings and errors only.",
        ),
    ] = "info",
) -> None:
    """Run the inventory service (API under /api/v1, OpenAPI at /docs); migrates the database first.
    SIGTERM or Ctrl-C: stops taking requests, hands running jobs back, exits 0."""
    if log_level not in LEVELS:
        raise ImagevetError(f"--log-level {log_level!r} (choose from: {', '.join(LEVELS)})")
    try:
        import uvicorn

        from imagevet.service.app import create_app
        from imagevet.service.logs import STARTUP, startup_line
        from imagevet.service.migrate import location
        from imagevet.service.tokens import count
    except ImportError as exc:
        raise ImagevetError("the service needs its extra: pip install 'imagevet[serve]'") from exc
    ssh = service_ssh(ssh_identity, ssh_known_hosts)
    certfile, keyfile = tls_options(tls_cert, tls_key)
    check_listen(host, port)
    url, make = inventory_sessions(database_url)
    database = db_path(db)

    def lookup() -> Any:
        return open_advisories(database) if database.is_file() else None

    from imagevet.catalog.store import load_catalog

    catalog = load_catalog(data_dir())

    def run(service: Any) -> None:
        with service_process(log_level=log_level):
            logging.getLogger(STARTUP).info(startup_line(
                host, port, certfile is not None, location(url), count(make), queue, forwarded_allow_ips
            ))  # fmt: skip
            # Logging is configured above (service/logs.py): uvicorn neither configures it nor writes
            # its own access lines (which would carry query strings whole).
            uvicorn.run(
                service, host=host, port=port, log_config=None, log_level=None, access_log=False,
                ssl_certfile=certfile, ssl_keyfile=keyfile, proxy_headers=forwarded_allow_ips is not None,
                forwarded_allow_ips=forwarded_allow_ips,
            )  # fmt: skip

    if not queue:
        run(
            create_app(
                make, lookup, catalog, ssh=ssh, job_time_limit=job_time_limit, job_attempts=job_attempts
            )
        )
        return
    from imagevet.service.queue import deferrer, ensure_schema, make_queue

    try:
        jobs = make_queue(url)
    except ValueError as exc:
        raise ImagevetError(str(exc)) from exc
    ensure_schema(url, jobs)
    with jobs.open():
        service = create_app(make, lookup, catalog, defer=deferrer(jobs), ssh=ssh,
                             job_time_limit=job_time_limit, job_attempts=job_attempts)  # fmt: skip
        run(service)


@app.command()
def worker(
    database_url: Annotated[str, Option("--database-url", help="The service's PostgreSQL URL.")],
    db: Annotated[Path | None, Option("--db", help="Advisory database (default: $IMAGEVET_DB).")] = None,
    concurrency: Annotated[int, Option("--concurrency", min=1, max=64, help="Jobs at once.")] = 1,
    ssh_identity: SshIdentityOption = None,
    ssh_known_hosts: SshKnownHostsOption = None,
    job_time_limit: JobTimeLimitOption = 3600.0,
    job_attempts: JobAttemptsOption = 3,
) -> None:
    """Run queued jobs (rescans, audits) for `imagevet serve --queue`; start as many as the fleet needs.
    SIGTERM or Ctrl-C: running jobs are handed back to the queue at once, and the worker exits 0."""
    try:
        from imagevet.catalog.store import load_catalog
        from imagevet.service.jobs import JobContext, run_job
        from imagevet.service.queue import HEARTBEAT, STALLED_AFTER, ensure_schema, make_queue
    except ImportError as exc:
        raise ImagevetError("workers need the service extra: pip install 'imagevet[serve]'") from exc
    ssh = service_ssh(ssh_identity, ssh_known_hosts)
    database = db_path(db)
    if not database.is_file():
        raise ImagevetError(f"no advisory database at {database} (imagevet db update, or --db)")
    _, make = inventory_sessions(database_url)
    advisories = open_advisories(database)
    context = JobContext(lambda: advisories, load_catalog(data_dir()), ssh=ssh, time_limit=job_time_limit,
                         max_attempts=job_attempts)  # fmt: skip
    try:
        jobs = make_queue(database_url, runner=lambda job_id, stop: run_job(make, job_id, context, stop))
    except ValueError as exc:
        raise ImagevetError(str(exc)) from exc
    ensure_schema(database_url, jobs)
    with service_process(_interrupt), jobs.open():
        # On a stop signal procrastinate asks running jobs to stop at once (no grace): each is handed back
        # and queued again, rather than holding the worker until it ends.
        jobs.run_worker(concurrency=concurrency, update_heartbeat_interval=HEARTBEAT,
                        stalled_worker_timeout=STALLED_AFTER, shutdown_graceful_timeout=0)  # fmt: skip


token_app = Typer(help="API tokens for the inventory service.", no_args_is_help=True)
app.add_typer(token_app, name="token")


@token_app.command("create")
def token_create(
    scope: Annotated[str, Option("--scope", help=f"{listed(SCOPES)}.")],
    name: Annotated[str, Option("--name", help="What the token is for.")] = "",
    database_url: Annotated[str | None, Option("--database-url", help="As for serve.")] = None,
) -> None:
    """Create a token; it is printed once and stored only as a digest."""
    from imagevet.service import tokens

    if scope not in SCOPES:
        raise ImagevetError(f"--scope {scope!r} (choose from: {', '.join(SCOPES)})")
    _, make = inventory_sessions(database_url)
    write_output(tokens.create(make, scope, name) + "\n")


@token_app.command("list")
def token_list(
    database_url: Annotated[str | None, Option("--database-url", help="As for serve.")] = None,
    fmt: Annotated[ListFormat, Option("--format", "-f", help="Output format.")] = ListFormat.TABLE,
) -> None:
    """List tokens: id, name, scope, creation time (never the token itself, which is not stored)."""
    from imagevet.service import tokens

    _, make = inventory_sessions(database_url)
    rows = tokens.listed(make)
    write_output(tokens.as_json(rows) if fmt is ListFormat.JSON else tokens.as_table(rows), None)


@token_app.command("revoke")
def token_revoke(
    token_id: Annotated[int, Argument(help="The id from `imagevet token list`.", metavar="ID")],
    database_url: Annotated[str | None, Option("--database-url", help="As for serve.")] = None,
) -> None:
    """Revoke a token: it stops working at once, on every server process using the database."""
    from imagevet.service import tokens

    _, make = inventory_sessions(database_url)
    notice(tokens.revoke(make, token_id))


@app.command()
def push(
    report: Annotated[Path, Argument(help="A JSON document from audit, packages or vuln.")],
    server: Annotated[str, Option("--server", help="Service URL, e.g. http://127.0.0.1:8000.")],
    token: Annotated[str, Option("--token", envvar="IMAGEVET_TOKEN", help="A write token.")],
    image_id: Annotated[str, Option("--image-id", help="The cloud image id the report is about.")],
    cloud: Annotated[str, Option("--cloud", help=f"The image's cloud: {listed(CLOUDS)}.")],
    register: Annotated[bool, Option("--register", help="Register the image if it is new.")] = False,
) -> None:
    """Send a report to the inventory service. --cloud is required: an image id means nothing without
    its cloud, and a guessed one would file the same image twice."""
    from imagevet.service.client import push as send

    if cloud not in CLOUDS:
        raise ImagevetError(f"--cloud must be one of {', '.join(CLOUDS)}")

    text = read_user_file(report, "report")
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ImagevetError(f"{report}: not JSON ({exc.msg}, line {exc.lineno})") from exc
    result = send(server, token, document, cloud, image_id, register)
    write_output(f"pushed {result['schema']} as report {result['id']} of image {result['image']}\n")
