"""Provenance: does an image id come from an official publisher? (`imagevet verify`)

The cloud adapters (one per cloud, each behind an optional extra) only describe images; everything that
decides (publisher matching, deprecation, age, newer official images, alternatives) is pure and lives in
``judge``.
"""
