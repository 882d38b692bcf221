"""Checks, one room per subject: ``<subject>.py`` beside ``<subject>.yaml`` (metadata, and value checks as
data rows judged by values.py); small pure predicates over facts only; one explicit registry."""
