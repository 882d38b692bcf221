"""The bundled catalog is consistent and cited, and malformed data is rejected naming the file and field.

The malformed cases mutate a small catalog written here (not the bundled files, whose facts change as
they are re-verified), so each test says exactly which field it breaks.
"""

from __future__ import annotations

import datetime as dt
import re
import textwrap

import pytest

from imagevet.catalog.loader import bundled_catalog, bundled_texts, parse_catalog
from imagevet.catalog.model import PAID_COSTS
from imagevet.catalog.parse_images import LOOKUP_KEYS
from imagevet.errors import DataError

REQUIRED = [
    *(f"ubuntu-{v}" for v in ("18.04", "20.04", "22.04", "24.04", "25.10", "26.04")),
    *(f"debian-{v}" for v in (10, 11, 12, 13)),
    *(f"rhel-{v}" for v in (7, 8, 9, 10)),
    "centos-7",
    "centos-8",
    *(f"centos-stream-{v}" for v in (8, 9, 10)),
    *(f"rocky-{v}" for v in (8, 9, 10)),
    *(f"almalinux-{v}" for v in (8, 9, 10)),
    *(f"ol-{v}" for v in (8, 9, 10)),
    "fedora-42",
    "fedora-43",
    "sles-15.6",
    "sles-15.7",
    "sles-16.0",
    "opensuse-leap-15.6",
    "opensuse-leap-16.0",
    "amzn-2",
    "amzn-2023",
    "bottlerocket",
    "azurelinux-3",
    "mariner-2",
    "cos-117",
    "cos-121",
    "flatcar",
    *(f"alinux-{v}" for v in (2, 3, 4)),
    "anolis-8",
    "anolis-23",
    *(f"tencentos-{v}" for v in (2, 3, 4)),
    "openEuler-22.03",
    "openEuler-24.03",
]
# Families users pick, per cloud (issue 16): (cloud, release, variant) that must exist.
FAMILIES = [
    ("aws", "ubuntu-24.04", "pro"),
    ("azure", "ubuntu-24.04", "pro"),
    ("gcp", "ubuntu-24.04", "pro"),
    ("aws", "ubuntu-24.04", "deep-learning"),
    ("gcp", "ubuntu-24.04", "deep-learning"),
    ("azure", "ubuntu-24.04", "gpu"),
    ("azure", "ubuntu-22.04", "deep-learning"),
    ("aws", "amzn-2023", "k8s-node"),
    ("aws", "bottlerocket", "k8s-node"),
    ("aws", "bottlerocket", "container-host"),
    ("gcp", "cos-121", "container-host"),
    ("azure", "flatcar", "container-host"),
    ("aws", "flatcar", "container-host"),
    ("azure", "azurelinux-3", "general"),
    ("azure", "azurelinux-3", "k8s-node"),
    ("alibaba", "alinux-3", "mlps"),
    ("alibaba", "ubuntu-24.04", "gpu"),
    ("aws", "sles-15.7", "general"),
    ("azure", "sles-15.7", "general"),
    ("aws", "sles-16.0", "general"),
    ("aws", "fedora-43", "general"),
    ("aws", "rhel-9", "sap"),
    ("azure", "rhel-9", "ha"),
    ("gcp", "sles-15.7", "sap"),
]
PLACEHOLDERS = ("factsheet", "unverified", "stub")


def test_bundled_catalog_covers_the_required_releases_and_families() -> None:
    catalog = bundled_catalog()
    ids = {r.release for r in catalog.releases}
    assert set(REQUIRED) <= ids, set(REQUIRED) - ids
    assert set(catalog.clouds) == {"aws", "azure", "alibaba", "tencent", "gcp"}
    found = {(o.cloud, o.release, o.variant) for c in catalog.clouds.values() for o in c.offerings}
    assert set(FAMILIES) <= found, set(FAMILIES) - found
    families = {(o.cloud, o.release, o.variant) for c in catalog.clouds.values() for o in c.offerings}
    assert len(ids) + len({(r, v) for _, r, v in families if v != "general"}) >= 50


def test_every_fact_cites_a_url_checked_on_a_real_day() -> None:
    catalog = bundled_catalog()
    sources = [s for r in catalog.releases for s in (*r.sources, *(t.source for t in r.tiers))]
    sources += [r.fips.source for r in catalog.releases if r.fips is not None]
    sources += [s for c in catalog.clouds.values() for o in c.offerings for s in o.sources]
    for source in sources:
        assert re.fullmatch(r"https?://\S+", source.url), source
        assert dt.date(2026, 1, 1) <= source.checked <= dt.date.today(), source


def test_unknown_support_ends_are_flagged() -> None:
    for release in bundled_catalog().releases:
        if release.eol is None and not release.rolling:
            flagged = {"eol", "tiers"} & {f.split(".")[0] for f in release.uncertain}
            assert flagged, f"{release.release}: an unknown end date must be flagged"


def test_no_placeholder_sources_remain() -> None:
    for name, text in bundled_texts().items():
        for placeholder in PLACEHOLDERS:
            assert not re.search(rf"^\s+{placeholder}:", text, re.M), (name, placeholder)
        assert "Stub: to be verified" not in text, name


def test_every_image_has_a_publisher_identity_and_a_lookup() -> None:
    for cloud in bundled_catalog().clouds.values():
        keys = [o.image for o in cloud.offerings]
        assert len(keys) == len(set(keys)), cloud.key
        for offering in cloud.offerings:
            assert offering.publisher.ids, (cloud.key, offering.image)
            assert offering.publisher.key in cloud.publishers
            assert any(all(k in offering.lookup for k in ks) for ks in LOOKUP_KEYS[cloud.key])
            assert offering.paid is None or offering.paid in PAID_COSTS


SMALL = {
    "releases/test.yaml": textwrap.dedent(
        """\
        sources:
          vendor: {url: "https://example.org/lifecycle", checked: 2026-12-02}
        releases:
          - release: testos-1
            distro: testos
            name: TestOS 1
            version: "1"
            family: debian
            ecosystem: deb
            lts: true
            released: 2024-01-01
            tiers:
              - {tier: standard, name: standard, ends: 2029-01-01, cost: free, source: vendor}
              - {tier: esm, name: paid ESM, ends: 2034-01-01, cost: subscription, source: vendor}
            mac: apparmor
            auto_updates: true
            fips: {modules: "test modules", standard: "140-3", status: validated, scope: release,
                   source: vendor}
            certifications: [cis]
            arches: [x86_64]
            packages: {python: "3.12"}
            sources: [vendor]
        """
    ),
    "images/aws.yaml": textwrap.dedent(
        """\
        cloud: aws
        name: Amazon Web Services
        sources:
          vendor: {url: "https://example.org/images", checked: 2026-12-02}
        publishers:
          testos: {name: TestOS, ids: ["123456789012"], source: vendor}
        images:
          - image: testos-1
            release: testos-1
            variant: general
            publisher: testos
            name: TestOS 1
            lookup: {ssm: /aws/service/testos/1/latest}
            paid: null
            features: [cloud-agent]
            sources: [vendor]
        """
    ),
    "scenarios.yaml": (
        'scenarios:\n  web-api:\n    title: Web\n    guide: g\n    prefer:\n      testos: [6, "fresh"]\n'
    ),
    "compliance.yaml": (
        "fips_140_2_historical: 2026-09-21\ncompliance:\n  fips:\n    title: FIPS\n    gate: true\n"
        "    any_of: [fips]\n    reason: r\n"
    ),
    "rules.yaml": "rules: []\n",
}


def _small(name: str, old: str, new: str) -> dict[str, str]:
    texts = dict(SMALL)
    assert old in texts[name], old
    texts[name] = texts[name].replace(old, new, 1)
    return texts


def test_the_small_catalog_loads() -> None:
    catalog = parse_catalog(dict(SMALL))
    release = catalog.release("testos-1")
    assert release is not None and release.eol == dt.date(2029, 1, 1)
    assert release.extended_eol == dt.date(2034, 1, 1) and release.extended_kind == "paid ESM"
    assert release.citations() == ("https://example.org/lifecycle (checked 2026-12-02)",)
    assert catalog.clouds["aws"].offering("testos-1") is not None


REL = "releases/test.yaml"
IMG = "images/aws.yaml"


@pytest.mark.parametrize(
    ("name", "old", "new", "message"),
    [
        (
            REL,
            "ends: 2029-01-01",
            "ends: someday",
            r"releases/test.yaml: releases\[0\] \(testos-1\): tiers\[0\]",
        ),
        (REL, "mac: apparmor", "mac: tomoyo", r"\(testos-1\): field 'mac'"),
        (REL, "lts: true", "lts: maybe", r"\(testos-1\): field 'lts'"),
        (REL, "    released: 2024-01-01\n", "", r"\(testos-1\): field 'released': is missing"),
        (REL, "certifications: [cis]", "certifications: [iso]", r"field 'certifications'"),
        (REL, "tier: esm,", "tier: forever,", r"tiers\[1\]: field 'tier'"),
        (REL, "cost: subscription", "cost: cheap", r"tiers\[1\]: field 'cost'"),
        (REL, 'standard: "140-3"', 'standard: "140-1"', r"fips: field 'standard'"),
        (REL, "status: validated", "status: probably", r"fips: field 'status'"),
        (REL, "scope: release", "scope: somewhere", r"fips: field 'scope'"),
        (REL, "scope: release,", "", r"fips: field 'scope'"),
        (REL, "sources: [vendor]", "sources: [nickname]", r"field 'sources': 'nickname' not among"),
        (REL, "sources: [vendor]", "sources: []", r"field 'sources': must cite"),
        (REL, '"https://example.org/lifecycle"', '"[EOL] ubuntu.md"', r"sources.vendor: field 'url'"),
        (REL, "checked: 2026-12-02", "checked: null", r"sources.vendor: field 'checked'"),
        (REL, "releases:\n", "releases: [\n", r"releases/test.yaml: not valid YAML"),
        (
            IMG,
            "release: testos-1",
            "release: testos-99",
            r"images/aws.yaml: images\[0\] \(testos-1\): field 'release'",
        ),
        (IMG, "publisher: testos\n", "publisher: nobody\n", r"images\[0\] \(testos-1\): field 'publisher'"),
        (IMG, "features: [cloud-agent]", "features: [warp-drive]", r"field 'features': unknown"),
        (IMG, "variant: general", "variant: deluxe", r"field 'variant'"),
        (IMG, "paid: null", "paid: maybe", r"field 'paid'"),
        (
            IMG,
            "{ssm: /aws/service/testos/1/latest}",
            "{urn: a:b:c:d}",
            r"field 'lookup': needs ssm or name on aws",
        ),
        (IMG, "cloud: aws", "cloud: oracle", r"top level: field 'cloud'"),
        ("scenarios.yaml", '[6, "fresh"]', '["six", "fresh"]', r"scenarios.web-api: field 'prefer.testos'"),
        ("compliance.yaml", "any_of: [fips]", "any_of: [magic]", r"compliance.fips: field 'any_of'"),
    ],
)
def test_malformed_data_names_file_and_field(name: str, old: str, new: str, message: str) -> None:
    with pytest.raises(DataError, match=message):
        parse_catalog(_small(name, old, new))


def test_tiers_free_first_and_in_order() -> None:
    swapped = _small(REL, "cost: free", "cost: add-on")
    swapped[REL] = swapped[REL].replace("cost: subscription", "cost: free")
    with pytest.raises(DataError, match="free tier 'esm' comes after a paid one"):
        parse_catalog(swapped)
    early = _small(REL, "ends: 2029-01-01, cost: free", "ends: 2035-01-01, cost: free")
    early[REL] = early[REL].replace(
        "      - {tier: esm",
        "      - {tier: lts, name: lts, ends: 2030-01-01, cost: free, source: vendor}\n      - {tier: esm",
    )
    with pytest.raises(DataError, match="free tiers must end in order"):
        parse_catalog(early)
    # A paid side branch (RHEL EUS of one minor release) may end before the free tiers do.
    eus = _small(REL, "ends: 2034-01-01", "ends: 2027-01-01")
    release = parse_catalog(eus).release("testos-1")
    assert release is not None and release.eol == dt.date(2029, 1, 1)


def test_duplicate_release_ids_and_image_keys_are_refused() -> None:
    texts = dict(SMALL)
    texts["releases/other.yaml"] = texts[REL]
    with pytest.raises(DataError, match=r"duplicate release id\(s\): testos-1"):
        parse_catalog(texts)
    body = SMALL[IMG].split("images:\n", 1)[1]
    with pytest.raises(DataError, match="image key\\(s\\) used twice: testos-1"):
        parse_catalog({**SMALL, IMG: SMALL[IMG] + body})


def test_override_replaces_dates_of_known_releases_only() -> None:
    override = (
        "source: test\nfetched: 2026-11-01\n"
        "releases:\n  testos-1: {eol: 2029-06-30}\n  testos-99: {eol: 2099-01-01}\n"
    )
    catalog = parse_catalog(dict(SMALL), ("override.yaml", override))
    release = catalog.release("testos-1")
    assert release is not None and release.eol == dt.date(2029, 6, 30)
    assert release.extended_eol == dt.date(2034, 1, 1)  # untouched
    assert catalog.release("testos-99") is None


def test_an_override_moves_free_support_as_a_whole() -> None:
    override = "releases:\n  testos-1: {eol: 2026-01-01, extended_eol: 2040-01-01}\n"
    release = parse_catalog(dict(SMALL), ("override.yaml", override)).release("testos-1")
    assert release is not None and release.eol == dt.date(2026, 1, 1)
    assert release.extended_eol == dt.date(2040, 1, 1)


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("releases:\n  testos-1: {mac: none}\n", "may only set"),
        ("releases:\n  testos-1: {eol: soon}\n", "field 'eol'"),
        ("other: 1\nreleases: {}\n", "unknown top-level key"),
        ("[1, 2]\n", "top level must be a mapping"),
    ],
)
def test_bad_override_is_an_error(override: str, message: str) -> None:
    with pytest.raises(DataError, match=re.escape("override.yaml") + ".*" + message):
        parse_catalog(dict(SMALL), ("override.yaml", override))


def test_lazy_images_are_parsed_and_validated_on_first_use() -> None:
    """The bundled catalog parses its image files only when a command needs them (the audit does not)."""
    broken = _small(IMG, "variant: general", "variant: deluxe")
    catalog = parse_catalog(broken, lazy_images=True)  # releases, scenarios and rules are ready
    assert catalog.release("testos-1") is not None
    with pytest.raises(DataError, match=r"images/aws.yaml: .*field 'variant'"):
        catalog.clouds["aws"]
    good = parse_catalog(dict(SMALL), lazy_images=True)
    assert list(good.clouds) == ["aws"] and good.clouds["aws"].offering("testos-1") is not None
