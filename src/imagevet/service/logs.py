"""What `imagevet serve` writes to stderr, through Python's logging: one start-up line, one access line a
request, and the service's own warnings and errors (a job's traceback).

An access line names the client, the method, the path, the status and how long the answer took, and
nothing a log reader could sign in or download with: never a header (Authorization, Cookie), never a
body (the sign-in form's token), and of the query string only the parameter names (a signed URL's
``X-Amz-Signature=...`` is a credential). Anything unprintable in a path is escaped, so a request
cannot write a line of its own into the log. `serve --log-level warning` drops the info lines (the
start-up line and every access line); `debug` adds uvicorn's own.

The configuration is a ``logging.config.dictConfig`` dictionary, applied by the CLI (which owns the
process's stderr); uvicorn is told not to configure logging itself."""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable
from typing import Any

LEVELS = ("critical", "error", "warning", "info", "debug")  # serve --log-level, quietest first
SERVICE = "imagevet.service"  # the service's loggers: imagevet.service.jobs, .serve, .access
ACCESS = f"{SERVICE}.access"
STARTUP = f"{SERVICE}.serve"
REDACTED = "***"
MAX_TARGET = 512  # characters of a path shown; a longer one is cut, marked with "..."
NAME = re.compile(r"[A-Za-z0-9_.\-\[\]]{1,64}")  # a query parameter's name as it may be shown


def log_config(level: str) -> dict[str, Any]:
    """The dictConfig for a service process at ``level`` (one of LEVELS). uvicorn's own loggers stay at
    warning or above unless ``debug`` is asked for: its info lines say what the start-up line says."""
    if level not in LEVELS:
        raise ValueError(f"log level {level!r} is not one of {', '.join(LEVELS)}")
    quieter = LEVELS[: LEVELS.index("warning") + 1]
    uvicorn = level if level in quieter or level == "debug" else "warning"
    stderr = {"class": "logging.StreamHandler", "stream": "ext://sys.stderr"}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "service": {"format": "imagevet: %(levelname)s: %(name)s: %(message)s"},
            "access": {"format": "imagevet: access: %(message)s"},
        },
        "handlers": {
            "service": {**stderr, "formatter": "service"},
            "access": {**stderr, "formatter": "access"},
        },
        "loggers": {
            SERVICE: {"handlers": ["service"], "level": level.upper(), "propagate": False},
            ACCESS: {"handlers": ["access"], "level": level.upper(), "propagate": False},
            "uvicorn": {"handlers": ["service"], "level": uvicorn.upper(), "propagate": False},
        },
    }


def configured_loggers(config: dict[str, Any]) -> list[logging.Logger]:
    """The loggers ``config`` gives handlers to (to take them off again when the process is done)."""
    return [logging.getLogger(name) for name in config["loggers"]]


def startup_line(
    host: str, port: int, tls: bool, database: str, tokens: int, queued: bool, proxies: str | None
) -> str:
    """What a starting service says about itself: where it listens, which database (its location only,
    service/migrate.py), how callers authenticate, where jobs run."""
    address = f"{'https' if tls else 'http'}://{f'[{host}]' if ':' in host else host}:{port}"
    auth = f"bearer tokens ({tokens})" if tokens else "bearer tokens (none yet: imagevet token create)"
    trusted = f"; X-Forwarded-For trusted from {proxies}" if proxies else ""
    jobs = "imagevet worker (queue)" if queued else "in-process"
    return f"listening on {address}; database {database}; auth: {auth}{trusted}; jobs: {jobs}"


def _escaped(text: str) -> str:
    """Printable ASCII as it is; anything else (control characters, newlines, non-ASCII) as %XX."""
    return "".join(c if "!" <= c <= "~" else "".join(f"%{b:02X}" for b in c.encode()) for c in text)


def shown_query(query: str) -> str:
    """The query string with every value replaced (``a=***&b=***``); a part that is not a plain
    ``name=value`` is replaced whole, as it could itself be the secret."""
    parts = []
    for part in query.split("&"):
        name, equals, _ = part.partition("=")
        parts.append(f"{name}={REDACTED}" if equals and NAME.fullmatch(name) else REDACTED)
    return "&".join(parts)


def shown_target(scope: dict[str, Any]) -> str:
    """The request's path (as sent, escaped) and its query with the values redacted."""
    raw = scope.get("raw_path")
    path = raw.decode("latin-1") if isinstance(raw, bytes) else str(scope.get("path", ""))
    path = _escaped(path)
    if len(path) > MAX_TARGET:
        path = path[:MAX_TARGET] + "..."
    query = bytes(scope.get("query_string") or b"").decode("latin-1")
    return f"{path}?{shown_query(query)}" if query else path


class AccessLog:
    """ASGI middleware: one info line per HTTP request on ACCESS, once it is answered (or has failed:
    an exception is logged as 500, which is what the client gets). Outermost, so the request guard's
    own refusals (401, 413, 429) are logged too."""

    def __init__(self, app: Any, clock: Callable[[], float] = time.perf_counter) -> None:
        self.app, self.clock = app, clock
        self.log = logging.getLogger(ACCESS)

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http" or not self.log.isEnabledFor(logging.INFO):
            await self.app(scope, receive, send)
            return
        started, status = self.clock(), "-"

        async def sending(message: dict[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = str(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, sending)
        except Exception:
            status = "500" if status == "-" else status
            raise
        finally:
            client = scope["client"][0] if scope.get("client") else "-"
            method = _escaped(str(scope.get("method", "-")))[:16]
            took = (self.clock() - started) * 1000
            self.log.info("%s %s %s %s %.1fms", client, method, shown_target(scope), status, took)
