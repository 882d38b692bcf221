"""Vulnerabilities: an offline OSV advisory database (SQLite) and distro-exact matching."""
