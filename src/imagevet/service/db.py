"""The inventory database: tables as SQLAlchemy 2 declarative models, and engine/session set-up.

The schema itself is owned by the Alembic migrations (service/migrations); these models must match them
(tests compare the migrated database with the models)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    create_engine,
    event,
)
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship, sessionmaker

REMEDIATION = ("open", "rebuilding", "replaced")  # an image's remediation, in the order it moves


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Base(DeclarativeBase):
    pass


class ImageVersion(Base):
    __tablename__ = "image_versions"
    __table_args__ = (UniqueConstraint("cloud", "image_id", name="uq_image_versions_cloud_image"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    cloud: Mapped[str] = mapped_column(String(16))
    image_id: Mapped[str] = mapped_column(String(512))
    release: Mapped[str] = mapped_column(String(64), default="")
    layer: Mapped[str] = mapped_column(String(64), default="")
    name: Mapped[str] = mapped_column(String(512), default="")
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("image_versions.id", ondelete="SET NULL"))
    remediation: Mapped[str] = mapped_column(String(16), default="open")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    reports: Mapped[list[Report]] = relationship(back_populates="image", cascade="all, delete-orphan")


class Report(Base):
    __tablename__ = "reports"
    # The latest report of a kind for an image is the most frequent lookup (details, rescans).
    __table_args__ = (Index("ix_reports_image_schema", "image_version_id", "schema"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    image_version_id: Mapped[int] = mapped_column(
        ForeignKey("image_versions.id", ondelete="CASCADE"), index=True
    )
    schema: Mapped[str] = mapped_column(String(32))
    received_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    document: Mapped[dict[str, Any]] = mapped_column(JSON)
    image: Mapped[ImageVersion] = relationship(back_populates="reports")


class InventoryPackage(Base):
    """The latest package inventory of an image version (replaced by each packages report)."""

    __tablename__ = "inventory_packages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    image_version_id: Mapped[int] = mapped_column(
        ForeignKey("image_versions.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(256))
    version: Mapped[str] = mapped_column(String(256))
    type: Mapped[str] = mapped_column(String(8))
    source: Mapped[str] = mapped_column(String(256), default="")
    source_version: Mapped[str] = mapped_column(String(256), default="")
    arch: Mapped[str] = mapped_column(String(32), default="")
    purl: Mapped[str] = mapped_column(Text, default="")


class Finding(Base):
    __tablename__ = "findings"
    __table_args__ = (
        UniqueConstraint("image_version_id", "vuln_id", "package", name="uq_findings_image_vuln_package"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    image_version_id: Mapped[int] = mapped_column(
        ForeignKey("image_versions.id", ondelete="CASCADE"), index=True
    )
    vuln_id: Mapped[str] = mapped_column(String(128), index=True)
    aliases: Mapped[list[str]] = mapped_column(JSON, default=list)
    package: Mapped[str] = mapped_column(String(256), index=True)
    installed: Mapped[str] = mapped_column(String(256), default="")
    fixed: Mapped[str | None] = mapped_column(String(256))
    severity: Mapped[str] = mapped_column(String(16), index=True)
    origin: Mapped[str] = mapped_column(String(16))  # report | rescan
    first_seen: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_seen: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Instance(Base):
    __tablename__ = "instances"
    __table_args__ = (UniqueConstraint("cloud", "instance_id", name="uq_instances_cloud_instance"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    cloud: Mapped[str] = mapped_column(String(16))
    instance_id: Mapped[str] = mapped_column(String(256))
    image_version_id: Mapped[int] = mapped_column(
        ForeignKey("image_versions.id", ondelete="CASCADE"), index=True
    )
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ApiToken(Base):
    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(128), default="")
    scope: Mapped[str] = mapped_column(String(8))
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class WebSession(Base):
    """A dashboard sign-in: the cookie holds a random secret whose digest is stored here, never the API
    token itself. Revoking the token ends its sessions (the foreign key cascades)."""

    __tablename__ = "web_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    token_id: Mapped[int] = mapped_column(ForeignKey("api_tokens.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


JOB_STATUSES = ("queued", "running", "done", "failed", "cancelled")


class Job(Base):
    __tablename__ = "jobs"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), default="queued")  # one of JOB_STATUSES
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    started_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))  # the latest attempt
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    # The running attempt's own id: only that attempt may complete the job, so an attempt that was
    # cancelled, timed out, or taken over by another worker cannot store anything.
    run_id: Mapped[str | None] = mapped_column(String(36))
    params: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)


def make_engine(url: str) -> Engine:
    """An engine for ``url``; SQLite gets foreign keys on and a busy timeout so concurrent writers wait."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _pragmas(connection: Any, _: Any) -> None:
            cursor = connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.close()

        return engine
    return create_engine(url, pool_pre_ping=True)


def sessions(engine: Engine) -> sessionmaker[Any]:
    return sessionmaker(engine, expire_on_commit=False)
