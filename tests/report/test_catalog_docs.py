"""docs/catalog.md lists every release and image family with its sources and check dates.

Regenerate after a catalog change with:
    .venv/bin/python -m tests.report.test_catalog_docs
"""

from __future__ import annotations

from pathlib import Path

from imagevet.catalog.loader import bundled_catalog
from imagevet.report.catalog_docs import inventory, replace_inventory

PAGE = Path(__file__).resolve().parents[2] / "docs" / "catalog.md"


def test_docs_list_every_release_and_image_with_sources() -> None:
    catalog = bundled_catalog()
    page = PAGE.read_text(encoding="utf-8")
    assert inventory(catalog) in page, (
        "docs/catalog.md is out of date: run python -m tests.report.test_catalog_docs"
    )
    for release in catalog.releases:
        assert f"| `{release.release}` |" in page
        assert all(s.url in page for s in release.sources)
    for cloud in catalog.clouds.values():
        for offering in cloud.offerings:
            assert f"| `{offering.image}` | `{offering.release}` |" in page
            assert all(f"{s.url} ({s.checked.isoformat()})" in page for s in offering.sources)


def test_regenerating_is_idempotent() -> None:
    page = PAGE.read_text(encoding="utf-8")
    assert replace_inventory(page, bundled_catalog()) == page


if __name__ == "__main__":
    PAGE.write_text(replace_inventory(PAGE.read_text(encoding="utf-8"), bundled_catalog()), encoding="utf-8")
