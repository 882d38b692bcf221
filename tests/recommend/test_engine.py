"""Ranking: gates first, then support against the horizon, cloud fit, compliance, scenario fit."""

from __future__ import annotations

import datetime as dt

import pytest

from imagevet.catalog.lifecycle import SUPPORTED, lifecycle_status
from imagevet.catalog.loader import bundled_catalog
from imagevet.errors import ImagevetError
from imagevet.recommend.engine import Query, Recommendation, recommend
from tests.conftest import AS_OF_DAY

CATALOG = bundled_catalog()
SCENARIOS = list(CATALOG.scenarios)
CLOUDS = [None, *CATALOG.clouds]


def run(
    scenario: str = "web-api",
    cloud: str | None = None,
    years: float = 3.0,
    compliance: tuple[str, ...] = (),
    arch: str = "x86_64",
    gpu: bool = False,
    as_of: dt.date = AS_OF_DAY,
) -> Recommendation:
    return recommend(CATALOG, Query(scenario, cloud, years, compliance, arch, gpu, as_of))


def ids(result: Recommendation) -> list[str]:
    return [c.release.release for c in result.candidates]


def test_eight_scenarios() -> None:
    assert set(SCENARIOS) == {
        "web-api",
        "java-microservice",
        "bigdata-ml",
        "high-security",
        "legacy-migration",
        "k8s-node",
        "container-host",
        "database-host",
    }


@pytest.mark.parametrize("scenario", SCENARIOS)
@pytest.mark.parametrize("cloud", CLOUDS)
def test_first_candidate_is_official_supported_lts(scenario: str, cloud: str | None) -> None:
    result = run(scenario, cloud)
    assert result.candidates, (scenario, cloud)
    first = result.candidates[0]
    assert first.release.lts or first.release.rolling
    assert lifecycle_status(first.release, AS_OF_DAY).status == SUPPORTED
    if cloud is not None:
        assert first.offering is not None and first.offering.publisher.key in CATALOG.clouds[cloud].publishers
        assert first.offering.publisher.ids
    assert first.reasons


@pytest.mark.parametrize("scenario", SCENARIOS)
@pytest.mark.parametrize("cloud", CLOUDS)
def test_end_of_life_is_never_recommended(scenario: str, cloud: str | None) -> None:
    result = run(scenario, cloud)
    assert not {"centos-7", "centos-8", "debian-10", "alinux-2", "amzn-2"} & set(ids(result))
    rejected = {r.release.release: r.reasons for r in result.rejected}
    assert any("end of life: security support ended 2024-06-30" in reason for reason in rejected["centos-7"])


def test_unknown_lifecycle_and_non_lts_are_rejected_with_reasons() -> None:
    rejected = {r.release.release: r.reasons for r in run(cloud="tencent").rejected}
    assert any("not published" in reason for reason in rejected["tencentos-3"])
    assert any(
        "not a long-term-support release" in reason for reason in run().rejected_reasons("centos-stream-9")
    )
    assert any("never recommended" in reason for reason in run().rejected_reasons("fedora-43"))


def test_extended_only_is_rejected_unless_paid_support_is_allowed() -> None:
    ubuntu20 = CATALOG.release("ubuntu-20.04")
    assert ubuntu20 is not None and ubuntu20.eol is not None
    reasons = run().rejected_reasons("ubuntu-20.04")
    assert any(f"free security support ended {ubuntu20.eol.isoformat()}" in r for r in reasons)
    assert any("--allow-paid-support" in r for r in reasons)
    paid = recommend(CATALOG, Query("web-api", "aws", 3, (), "x86_64", False, AS_OF_DAY, True))
    pro = [c for c in paid.candidates if c.release.release == "ubuntu-20.04"]
    assert pro and pro[0].coverage is not None and pro[0].coverage.paid
    assert pro[0].coverage.tier is not None and pro[0].coverage.tier.tier == "esm"
    assert any("paid: a vendor subscription" in r for r in pro[0].reasons)


def test_paid_tiers_count_toward_the_horizon_only_when_allowed() -> None:
    free = run("web-api", "azure", years=8)
    ubuntu24 = next(c for c in free.candidates if c.release.release == "ubuntu-24.04")
    assert not ubuntu24.covers_horizon
    assert any("would cover it" in w and "--allow-paid-support" in w for w in ubuntu24.warnings)
    paid = recommend(CATALOG, Query("web-api", "azure", 8, (), "x86_64", False, AS_OF_DAY, True))
    ubuntu24 = next(c for c in paid.candidates if c.release.release == "ubuntu-24.04")
    assert ubuntu24.covers_horizon and ubuntu24.coverage is not None and ubuntu24.coverage.paid
    assert any("covers your 8-year horizon" in r for r in ubuntu24.reasons)


def test_horizon_demotes_below_every_release_that_covers_it() -> None:
    long = run("java-microservice", "aws", years=3)
    al2023 = next(c for c in long.candidates if c.release.release == "amzn-2023")
    assert not al2023.covers_horizon
    assert all(c.covers_horizon for c in long.candidates[: al2023.rank - 1])
    release = CATALOG.release("amzn-2023")
    assert release is not None and release.eol is not None
    assert any(f"ends {release.eol.isoformat()}" in w for w in al2023.warnings)


def test_as_of_moves_everything() -> None:
    in_2021 = run("legacy-migration", None, as_of=dt.date(2021, 6, 1))
    assert "ubuntu-20.04" in ids(in_2021) and "debian-10" in ids(in_2021)
    assert "ubuntu-20.04" not in ids(run("legacy-migration"))
    in_2032 = run("web-api", None, as_of=dt.date(2032, 1, 1))
    assert "ubuntu-26.04" not in ids(in_2032) and "rhel-10" in ids(in_2032)


def test_fips_is_a_gate_and_needs_validated_140_3_after_the_sunset() -> None:
    fips = run("high-security", "aws", compliance=("fips",))
    assert fips.candidates
    for candidate in fips.candidates:
        assert candidate.release.fips is not None and candidate.release.fips.status == "validated"
        assert candidate.release.fips.standard == "140-3"
    assert any("FIPS" in r for r in fips.rejected_reasons("debian-13"))
    # Ubuntu 20.04's modules are FIPS 140-2 only: enough before NIST's sunset, not after it.
    before = recommend(
        CATALOG, Query("high-security", None, 1, ("fips",), "x86_64", False, dt.date(2024, 1, 1))
    )
    assert "ubuntu-20.04" in ids(before)
    after = recommend(CATALOG, Query("high-security", None, 1, ("fips",), "x86_64", False, AS_OF_DAY, True))
    assert any("historical" in r for r in after.rejected_reasons("ubuntu-20.04"))
    cis = run("web-api", "aws", compliance=("cis-l1",))
    debian13 = next(c for c in cis.candidates if c.release.release == "debian-13")
    assert any("CIS Benchmark" in w for w in debian13.warnings)
    assert debian13.parts["compliance"] == 0


def test_validated_fips_ranks_above_rebuilds_that_are_not() -> None:
    result = run("high-security", None, compliance=("fips",))
    assert "rhel-9" in ids(result)
    # Rocky 9's and AlmaLinux 9's validated modules ship only in the vendors' paid FIPS builds: their
    # plain cloud images do not carry them, while RHEL's and Oracle Linux's own packages do.
    aws = run("high-security", "aws", compliance=("fips",))
    assert {"rhel-9", "ol-9"} <= set(ids(aws)) and not {"rocky-9", "almalinux-9"} & set(ids(aws))
    assert any("only in the vendor's FIPS images" in r for r in aws.rejected_reasons("rocky-9"))
    azure = run("high-security", "azure", compliance=("fips",))
    fips_images = [c for c in azure.candidates if c.offering is not None and c.offering.variant == "fips"]
    assert fips_images and all(c.release.distro == "ubuntu" for c in fips_images)
    for rebuild in ("almalinux-8", "almalinux-10", "rocky-10"):
        release = CATALOG.release(rebuild)
        assert release is not None and (release.fips is None or release.fips.status != "validated")
        assert rebuild not in ids(result)


def _first(scenario: str, cloud: str, years: float | None = None) -> tuple[str, str, list[str]]:
    profile = CATALOG.scenarios[scenario]
    horizon = years if years is not None else (profile.lifecycle_years or 3.0)
    top = run(scenario, cloud, years=horizon).candidates[0]
    assert top.offering is not None
    return top.offering.variant, top.release.release, top.reasons


@pytest.mark.parametrize(
    ("cloud", "variants"),
    [
        ("aws", ("deep-learning",)),  # the Deep Learning AMIs on Ubuntu 24.04
        ("gcp", ("deep-learning",)),  # the Deep Learning VM families on Ubuntu 24.04
        ("azure", ("gpu", "deep-learning")),  # Microsoft's Ubuntu-HPC 24.04 image
        ("alibaba", ("gpu", "deep-learning")),  # Ubuntu 24.04 with the NVIDIA driver and CUDA
    ],
)
def test_bigdata_ml_ranks_a_gpu_driver_image_first(cloud: str, variants: tuple[str, ...]) -> None:
    variant, _, reasons = _first("bigdata-ml", cloud)
    assert variant in variants
    assert "the NVIDIA GPU driver is preinstalled" in reasons


def test_a_gpu_image_on_short_support_says_so_and_ranks_after_those_that_cover_the_horizon() -> None:
    """Azure's Data Science VM is built on Ubuntu 22.04: support comes first, so it leads only when the
    horizon fits inside 22.04's free support."""
    dsvm = next(o for o in CATALOG.clouds["azure"].offerings if o.variant == "deep-learning")
    release = CATALOG.release(dsvm.release)
    assert release is not None and release.eol is not None and release.release == "ubuntu-22.04"
    result = run("bigdata-ml", "azure", years=2)
    found = next(c for c in result.candidates if c.offering == dsvm)
    assert not found.covers_horizon and any("before your 2-year horizon" in w for w in found.warnings)
    assert all(c.covers_horizon for c in result.candidates[: found.rank - 1])
    fits = max((release.eol - AS_OF_DAY).days / 365.25 - 0.05, 0)
    short = run("bigdata-ml", "azure", years=fits)
    assert short.candidates[0].offering is not None
    assert short.candidates[0].offering.variant in ("deep-learning", "gpu")


@pytest.mark.parametrize(
    ("scenario", "cloud", "variants"),
    [
        ("k8s-node", "aws", ("k8s-node",)),
        ("k8s-node", "azure", ("k8s-node",)),
        ("k8s-node", "gcp", ("k8s-node",)),
        ("k8s-node", "alibaba", ("k8s-node",)),
        ("container-host", "aws", ("container-host",)),
        ("container-host", "azure", ("container-host", "k8s-node")),
        ("container-host", "gcp", ("container-host", "k8s-node")),
        ("high-security", "alibaba", ("mlps",)),
        ("database-host", "aws", ("sap",)),
    ],
)
def test_scenarios_rank_the_clouds_own_images_first(
    scenario: str, cloud: str, variants: tuple[str, ...]
) -> None:
    variant, _, reasons = _first(scenario, cloud)
    assert variant in variants, (scenario, cloud, variant)
    assert reasons


def test_paid_images_say_so_and_rank_after_free_ones_unless_asked_for() -> None:
    web = run("web-api", "aws")
    first_paid = next(c for c in web.candidates if c.offering is not None and c.offering.paid)
    assert any("paid image" in w for w in first_paid.warnings)
    same_release_free = [
        c for c in web.candidates if c.release == first_paid.release and c.offering and not c.offering.paid
    ]
    assert all(c.rank < first_paid.rank for c in same_release_free)


def test_rolling_releases_pass_the_lts_gate_with_a_reason() -> None:
    result = run("container-host", "aws", years=2)
    bottlerocket = next(c for c in result.candidates if c.release.release == "bottlerocket")
    assert any("rolling release" in r for r in bottlerocket.reasons)


def test_arm64_and_gpu() -> None:
    assert "rhel-7" not in ids(run(arch="arm64", as_of=dt.date(2020, 1, 1)))
    gpu = run("bigdata-ml", "aws", years=2)
    dlami = next(
        c for c in gpu.candidates if c.offering is not None and c.offering.variant == "deep-learning"
    )
    assert "the NVIDIA GPU driver is preinstalled" in dlami.reasons
    debian13 = next(c for c in gpu.candidates if c.release.release == "debian-13")
    assert any("NVIDIA driver yourself" in w for w in debian13.warnings)


def test_guide_baselines_where_facts_support_them() -> None:
    assert "alinux-3" in ids(run("web-api", "alibaba"))[:3]
    assert ids(run("legacy-migration"))[0] in ("rocky-9", "almalinux-9")
    assert ids(run("high-security", "azure", compliance=("fips",)))[0] in ("rhel-10", "rhel-9", "ol-9")


def test_lookup_identifiers() -> None:
    first = run("web-api", "aws").candidates[0]
    assert first.offering is not None and "099720109477" in first.offering.publisher.ids
    assert set(run("web-api").candidates[0].offerings) <= set(CATALOG.clouds)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"scenario": "gaming"}, "choose from: web-api"),
        ({"cloud": "oracle"}, "choose from: "),
        ({"compliance": ("sox",)}, "choose from: fips"),
        ({"arch": "riscv64"}, "x86_64, arm64"),
    ],
)
def test_unknown_values_list_the_choices(change: dict[str, object], message: str) -> None:
    with pytest.raises(ImagevetError, match=message):
        run(**change)  # type: ignore[arg-type]
