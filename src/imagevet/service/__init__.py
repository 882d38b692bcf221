"""`imagevet serve`: the inventory service. Image versions, their audit, package and vulnerability
reports over time, the instances that run them, findings and exposure, rescans when advisories change.
FastAPI over SQLAlchemy 2 (SQLite by default, PostgreSQL by URL) with Alembic migrations."""
