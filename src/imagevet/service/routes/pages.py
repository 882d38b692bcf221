"""The dashboard's pages and its sign-in.

Sign-in takes an API token once and gives the browser a session of its own (service/auth.py): the cookie
never holds the token, is HttpOnly and SameSite=Strict, and is Secure when the service is reached over
HTTPS. The sign-in form is protected against cross-site posts (a page elsewhere must not be able to sign
a visitor in as someone else): its POST must carry the one-time value the form was served with, in the
form and in a SameSite=Strict cookie a cross-site post does not carry, and the browser's Sec-Fetch-Site
and Origin headers must not name another site."""

from __future__ import annotations

import urllib.parse

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.concurrency import run_in_threadpool

from imagevet.service import views
from imagevet.service.auth import SESSION_HOURS, AuthFailure, new_nonce, same_site_post
from imagevet.service.routes.deps import Db, Known, Runtime, Service, Today, image_or_404
from imagevet.web.render import render

SESSION_COOKIE = "imagevet_session"
NONCE_COOKIE = "imagevet_signin"
LEGACY_COOKIE = "imagevet_token"  # held the raw token before sessions: removed wherever seen
TITLE = "imagevet: sign in"
router = APIRouter()


def _https(request: Request) -> bool:
    return request.url.scheme == "https"


def _form(request: Request, error: str = "", status: int = 200) -> HTMLResponse:
    nonce = new_nonce()
    response = HTMLResponse(
        render("login.html.j2", title=TITLE, error=error, nonce=nonce), status_code=status
    )
    response.set_cookie(NONCE_COOKIE, nonce, max_age=3600, path="/login", httponly=True, samesite="strict",
                        secure=_https(request))  # fmt: skip
    if LEGACY_COOKIE in request.cookies:
        response.delete_cookie(LEGACY_COOKIE)
    return response


def signed_in(request: Request, service: Runtime) -> bool:
    return service.gate.session_scope(request.cookies.get(SESSION_COOKIE, "")) is not None


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request) -> Response:
    return _form(request)


@router.post("/login")
async def login(request: Request, service: Service) -> Response:
    raw = await request.body()  # at most 16 KB (the request guard)
    try:
        fields = urllib.parse.parse_qs(raw.decode("utf-8", "replace"), max_num_fields=8)
    except ValueError:
        fields = {}
    token = (fields.get("token") or [""])[0].strip()
    nonce = (fields.get("nonce") or [""])[0]
    if not same_site_post(request.headers, request.cookies.get(NONCE_COOKIE, ""), nonce):
        error = "Sign-in refused: it must come from this service's own sign-in page. Reload it and try again."
        return _form(request, error, 403)
    client = request.client.host if request.client else "?"
    try:
        row = await run_in_threadpool(service.gate.token, client, token)
    except AuthFailure as exc:
        error = (
            "That token is not valid." if exc.status == 401 else "Too many failed sign-ins; try again later."
        )
        return _form(request, error, exc.status)
    secret = await run_in_threadpool(service.gate.open_session, row)
    response = RedirectResponse("/", status_code=303)
    response.set_cookie(SESSION_COOKIE, secret, max_age=SESSION_HOURS * 3600, httponly=True,
                        samesite="strict", secure=_https(request))  # fmt: skip
    response.delete_cookie(NONCE_COOKIE, path="/login")
    return response


@router.post("/logout")
def logout(request: Request, service: Service) -> Response:
    service.gate.close_session(request.cookies.get(SESSION_COOKIE, ""))
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response


@router.get("/", response_class=HTMLResponse)
def dashboard(request: Request, service: Service, db: Db, known: Known, today: Today) -> Response:
    if not signed_in(request, service):
        return RedirectResponse("/login", status_code=303)
    data = views.overview(db, known, today)
    return HTMLResponse(render("dashboard.html.j2", title="imagevet: image fleet", data=data))


@router.get("/images/{image}", response_class=HTMLResponse)
def image_view(
    image: int, request: Request, service: Service, db: Db, known: Known, today: Today
) -> Response:
    if not signed_in(request, service):
        return RedirectResponse("/login", status_code=303)
    found = image_or_404(db, image)
    data = views.image_page(db, known, found, today)
    return HTMLResponse(render("image.html.j2", title=f"imagevet: {found.image_id}", data=data))
