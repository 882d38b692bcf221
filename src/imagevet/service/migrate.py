"""Alembic, driven from code: `upgrade(url)` brings any database to the current schema (a fresh one, or
one made by an older imagevet), so `imagevet serve` can run it at start-up."""

from __future__ import annotations

from importlib import resources

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, SQLAlchemyError

from imagevet.errors import ImagevetError


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(resources.files("imagevet.service").joinpath("migrations")))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


class DatabaseError(ImagevetError):
    """The inventory database cannot be reached or used: one line, the password hidden."""


def shown(url: str) -> str:
    """The URL as it may be printed: without its password."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "(unparsable URL)"


def location(url: str) -> str:
    """Where the database is, and nothing one could sign in with: no user, no password, no query
    parameters (``?password=`` or a client key path). For the start-up line."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        return "(unparsable URL)"
    bare = URL.create(parsed.drivername, host=parsed.host, port=parsed.port, database=parsed.database)
    return bare.render_as_string(hide_password=False)


def upgrade(url: str, revision: str = "head") -> None:
    """Migrate the database to ``revision``; DatabaseError with the reason when it cannot."""
    try:
        make_url(url)
    except ArgumentError:
        raise DatabaseError(
            "--database-url is not a database URL (sqlite:///PATH or postgresql+psycopg://USER@HOST/DB)"
        ) from None
    try:
        command.upgrade(alembic_config(url), revision)
    except NoSuchModuleError:
        raise DatabaseError(
            f"{shown(url)}: unsupported database (use sqlite or postgresql+psycopg)"
        ) from None
    except (SQLAlchemyError, ImportError) as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()
        raise DatabaseError(f"cannot use the database {shown(url)}: {reason[0] if reason else exc}") from None
