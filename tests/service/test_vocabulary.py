"""The service's closed word lists agree with the layers that own them (service/vocabulary.py): the
clouds the catalog knows, the report model's severities, the matcher's, the lifecycle statuses, the report
schemas the CLI writes, the token scopes, the job kinds; and the API and `imagevet push` accept exactly
those words."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from imagevet.catalog import lifecycle
from imagevet.catalog.loader import bundled_catalog
from imagevet.catalog.model import CLOUDS as CATALOG_CLOUDS
from imagevet.model import Severity
from imagevet.report import json_report
from imagevet.report import packages as packages_report
from imagevet.report import vuln as vuln_report
from imagevet.service import auth, ingest, jobs, views
from imagevet.service.app import create_app
from imagevet.service.db import JOB_STATUSES, REMEDIATION, make_engine, sessions
from imagevet.service.schemas import ImageIn, ImagePatch, InstanceIn
from imagevet.service.vocabulary import CLOUDS, FINDING_SEVERITIES, ONPREM, SCOPES, listed, one_of
from imagevet.vuln.matcher import SEVERITY_ORDER


def test_clouds_are_the_catalogs_plus_onprem() -> None:
    assert (*CATALOG_CLOUDS, ONPREM) == CLOUDS
    assert set(bundled_catalog().clouds) == set(CATALOG_CLOUDS)  # every cloud the bundled catalog describes


@pytest.mark.parametrize("model", [ImageIn, InstanceIn])
def test_the_api_takes_exactly_those_clouds(model: type[ImageIn] | type[InstanceIn]) -> None:
    fields = {"image_id": "i-1", "instance_id": "i-1"}
    for cloud in CLOUDS:
        assert model.model_validate({**fields, "cloud": cloud}).cloud == cloud
    for cloud in ("ibm", "AWS", "aws ", ""):
        with pytest.raises(ValidationError):
            model.model_validate({**fields, "cloud": cloud})


def test_push_takes_the_same_clouds() -> None:
    from imagevet.cli.common import PUSH_CLOUDS  # audit/packages/vuln --push (the same tuple)
    from imagevet.service.client import CLOUDS as CLIENT_CLOUDS

    assert CLIENT_CLOUDS is CLOUDS
    assert PUSH_CLOUDS == CLOUDS


def test_severities_scopes_schemas_and_kinds_come_from_their_owners() -> None:
    assert ("unknown", *(s.value for s in Severity)) == FINDING_SEVERITIES
    assert list(ingest.SEVERITY_RANK) == list(FINDING_SEVERITIES)
    assert set(SEVERITY_ORDER) <= set(FINDING_SEVERITIES)  # every severity the matcher gives is ranked
    assert tuple(reversed(SEVERITY_ORDER)) == views.SEVERITIES
    assert views.LIFECYCLE == (lifecycle.SUPPORTED, lifecycle.EXTENDED_ONLY, lifecycle.END_OF_LIFE, "unknown")
    assert ingest.SCHEMAS == (json_report.SCHEMA, packages_report.SCHEMA, vuln_report.SCHEMA)
    assert (
        list(auth.RANK) == list(SCOPES) and auth.allows("admin", "write") and not auth.allows("read", "write")
    )
    assert jobs.KINDS == tuple(jobs.WORK) == (jobs.RESCAN, jobs.AUDIT)


def test_query_patterns_in_the_openapi_document_are_built_from_the_lists() -> None:
    document = create_app(sessions(make_engine("sqlite://")), lambda: None).openapi()

    def pattern(path: str, name: str) -> str:
        parameters = document["paths"][path]["get"]["parameters"]
        schema = next(p["schema"] for p in parameters if p["name"] == name)
        return str(next(s["pattern"] for s in schema["anyOf"] if "pattern" in s))

    assert pattern("/api/v1/images", "lifecycle") == "^(supported|extended-only|end-of-life|unknown)$"
    assert pattern("/api/v1/images", "remediation") == one_of(REMEDIATION)
    assert pattern("/api/v1/jobs", "status") == one_of(JOB_STATUSES)
    assert ImagePatch.model_json_schema()["properties"]["remediation"]["anyOf"][0]["pattern"] == one_of(
        REMEDIATION
    )


def test_word_helpers() -> None:
    assert one_of(["a", "b-c"]) == "^(a|b-c)$"
    with pytest.raises(ValueError):
        one_of(["a|b"])  # would widen the pattern
    assert listed(["read", "write", "admin"]) == "read, write or admin"
    assert listed(["one"]) == "one"


def test_audit_jobs_take_the_clis_target_forms() -> None:
    from imagevet.service.audit_job import TARGET_PREFIXES
    from imagevet.target.base import REMOTE_PREFIXES
    from imagevet.target.open import PREFIXES

    for prefix in (*PREFIXES, *REMOTE_PREFIXES):
        assert f"{prefix}/srv/image".startswith(TARGET_PREFIXES), prefix
