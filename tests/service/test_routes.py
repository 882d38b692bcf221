"""The shape of the service's HTTP surface: every route, by method, path and OpenAPI operation id, as it
was when all routes lived in one `create_app` closure (issue 18). Splitting the routes into one router per
resource must not add, drop or rename any of them; a route added on purpose is added here too."""

from __future__ import annotations

from imagevet.service.app import create_app
from imagevet.service.db import make_engine, sessions

# Taken from /openapi.json of the code before the split (commit 1b719de), not from the routers.
BEFORE = [
    ("GET", "/login", "login_form_login_get"),
    ("POST", "/login", "login_login_post"),
    ("POST", "/logout", "logout_logout_post"),
    ("GET", "/", "dashboard__get"),
    ("GET", "/images/{image}", "image_view_images__image__get"),
    ("GET", "/health", "health_health_get"),
    ("GET", "/api/v1/images", "list_images_api_v1_images_get"),
    ("POST", "/api/v1/images", "register_image_api_v1_images_post"),
    ("GET", "/api/v1/images/{image}", "show_image_api_v1_images__image__get"),
    ("PATCH", "/api/v1/images/{image}", "patch_image_api_v1_images__image__patch"),
    ("GET", "/api/v1/images/{image}/reports", "report_history_api_v1_images__image__reports_get"),
    ("POST", "/api/v1/images/{image}/reports", "receive_report_api_v1_images__image__reports_post"),
    ("GET", "/api/v1/instances", "list_instances_api_v1_instances_get"),
    ("POST", "/api/v1/instances", "register_instance_api_v1_instances_post"),
    ("GET", "/api/v1/findings", "list_findings_api_v1_findings_get"),
    ("GET", "/api/v1/exposure/{vuln_id}", "exposure_api_v1_exposure__vuln_id__get"),
    ("POST", "/api/v1/rescans", "start_rescan_api_v1_rescans_post"),
    ("POST", "/api/v1/images/{image}/audits", "start_audit_api_v1_images__image__audits_post"),
    ("GET", "/api/v1/jobs", "list_jobs_api_v1_jobs_get"),
    ("DELETE", "/api/v1/jobs/{job_id}", "cancel_job_api_v1_jobs__job_id__delete"),
    ("GET", "/api/v1/jobs/{job_id}", "show_job_api_v1_jobs__job_id__get"),
]


def openapi() -> dict[str, object]:
    app = create_app(sessions(make_engine("sqlite://")), lambda: None)
    return app.openapi()


def test_openapi_paths_methods_and_operation_ids_are_as_before() -> None:
    paths = openapi()["paths"]
    assert isinstance(paths, dict)
    now = [
        (method.upper(), path, op["operationId"]) for path, ops in paths.items() for method, op in ops.items()
    ]
    assert sorted(now) == sorted(BEFORE)
