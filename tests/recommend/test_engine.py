"""Ranking: gates first, then support against the horizon, cloud fit, compliance, scenario fit."""

from __future__ import annotations

import datetime as dt

import pytest

from imagevet.catalog.lifecycle import SUPPORTED, lifecycle_status
from imagevet.catalog.loader import bundled_catalog
from imagevet.errors import ImagevetError
from imagevet.recommend.engine import Query, Recommendation, recommend

AS_OF = dt.date(2026, 11, 28)
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
    as_of: dt.date = AS_OF,
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
    assert first.release.lts
    assert lifecycle_status(first.release, AS_OF).status == SUPPORTED
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


def test_extended_only_is_rejected() -> None:
    reasons = run().rejected_reasons("ubuntu-20.04")
    assert any("standard security support ended 2025-05-31" in r for r in reasons)


def test_horizon_demotes_below_every_release_that_covers_it() -> None:
    short = run("java-microservice", "aws", years=2)
    assert ids(short)[0] == "amzn-2023"  # the guide's first choice, when 2.6 years of support suffice
    long = run("java-microservice", "aws", years=3)
    al2023 = next(c for c in long.candidates if c.release.release == "amzn-2023")
    assert not al2023.covers_horizon
    assert all(c.covers_horizon for c in long.candidates[: al2023.rank - 1])
    assert any("support ends 2029-06-30, 0.4 years before your 3-year horizon" in w for w in al2023.warnings)


def test_as_of_moves_everything() -> None:
    in_2021 = run("legacy-migration", None, as_of=dt.date(2021, 6, 1))
    assert "ubuntu-20.04" in ids(in_2021) and "debian-10" in ids(in_2021)
    assert "ubuntu-20.04" not in ids(run("legacy-migration"))
    in_2032 = run("web-api", None, as_of=dt.date(2032, 1, 1))
    assert "ubuntu-26.04" not in ids(in_2032) and "rhel-10" in ids(in_2032)


def test_fips_is_a_gate_and_cis_a_preference() -> None:
    fips = run("high-security", "aws", compliance=("fips",))
    assert all(c.release.fips for c in fips.candidates)
    assert any("FIPS" in r for r in fips.rejected_reasons("debian-13"))
    cis = run("web-api", "aws", compliance=("cis-l1",))
    debian13 = next(c for c in cis.candidates if c.release.release == "debian-13")
    assert any("CIS Benchmark" in w for w in debian13.warnings)
    assert debian13.parts["compliance"] == 0


def test_arm64_and_gpu() -> None:
    assert "rhel-7" not in ids(run(arch="arm64", as_of=dt.date(2020, 1, 1)))
    gpu = run("bigdata-ml", "aws")
    ubuntu24 = next(c for c in gpu.candidates if c.release.release == "ubuntu-24.04")
    assert "an NVIDIA GPU driver image is offered" in ubuntu24.reasons
    debian13 = next(c for c in gpu.candidates if c.release.release == "debian-13")
    assert any("NVIDIA driver yourself" in w for w in debian13.warnings)


def test_guide_baselines_where_facts_support_them() -> None:
    assert ids(run("web-api", "alibaba"))[0] == "alinux-3"
    assert ids(run("java-microservice", "aws"))[0] in ("rhel-10", "rhel-9")
    assert ids(run("legacy-migration"))[0] in ("rocky-9", "almalinux-9")
    assert ids(run("high-security", "azure"))[0] in ("rhel-10", "rhel-9")


def test_lookup_identifiers() -> None:
    first = run("web-api", "aws").candidates[0]
    assert first.offering is not None and first.offering.publisher.ids == ("099720109477",)
    assert set(run("web-api").candidates[0].offerings) <= set(CATALOG.clouds)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"scenario": "gaming"}, "choose from: web-api"),
        ({"cloud": "oracle"}, "choose from: aws, azure"),
        ({"compliance": ("sox",)}, "choose from: fips"),
        ({"arch": "riscv64"}, "x86_64, arm64"),
    ],
)
def test_unknown_values_list_the_choices(change: dict[str, object], message: str) -> None:
    with pytest.raises(ImagevetError, match=message):
        run(**change)  # type: ignore[arg-type]
