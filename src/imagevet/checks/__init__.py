"""Checks: metadata as data (metadata.yaml), logic as small pure predicates over facts."""
