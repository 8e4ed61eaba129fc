"""Sign-in and sign-out pages: an API token pasted in, or the OIDC code flow with PKCE."""

from __future__ import annotations

import hmac
import secrets
from functools import partial
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import RedirectResponse, Response

from steward.audit.refusals import Refusal, write
from steward.errors import StewardError, Unauthenticated
from steward.identity import sessions
from steward.identity.oidc import looks_like_jwt
from steward.identity.sessions import WebSession
from steward.identity.tokens import authenticate, claimed_token_id
from steward.web import oidc_login
from steward.web.auth import (
    COOKIE,
    CSRF_FIELD,
    LOGIN_COOKIE,
    STATE_COOKIE,
    check_csrf,
    form_of,
    safe_next,
    session_of,
    set_cookie,
    signed_in,
    steward_of,
)
from steward.web.render import page

router = APIRouter(include_in_schema=False)
CALLBACK = "/login/oidc/callback"


def _login_page(
    request: Request, next_path: str, *, message: str | None = None, status: int = 200
) -> Response:
    token = secrets.token_urlsafe(32)
    oidc = oidc_login.client_of(steward_of(request).settings) is not None
    response = page(
        request,
        "login.html",
        {"next": next_path, "login_csrf": token, "oidc": oidc, "message": message},
        session=None,
        status=status,
        title="Sign in",
    )
    set_cookie(request, response, LOGIN_COOKIE, token, max_age=3600)
    return response


async def _audit_refusal(request: Request, token: str, reason: str) -> None:
    """A refused sign-in, counted with the API's refused tokens (one record per client and
    minute, then a summary): the token id it claims, never the secret."""
    client = request.client.host if request.client else None
    details = {"method": request.method, "path": request.url.path}
    refusal = Refusal(client, claimed_token_id(token), reason, details)
    writes = request.app.state.refusals.account(refusal)
    if writes:
        await run_in_threadpool(write, steward_of(request).audit, writes)


def _signed_in_response(request: Request, secret: str, next_path: str) -> Response:
    response = RedirectResponse(safe_next(next_path), status_code=303)
    settings = steward_of(request).settings
    set_cookie(
        request, response, COOKIE, secret, max_age=int(settings.web_session_max_hours * 3600)
    )
    response.delete_cookie(LOGIN_COOKIE, path="/")
    response.delete_cookie(STATE_COOKIE, path="/")
    return response


@router.get("/login")
async def get_login(
    request: Request, next: Annotated[str | None, Query(max_length=2000)] = None
) -> Response:
    """The sign-in page; a browser already signed in goes on to `next`."""
    if await session_of(request) is not None:
        return RedirectResponse(safe_next(next), status_code=303)
    return _login_page(request, safe_next(next))


@router.post("/login")
async def post_login(request: Request) -> Response:
    """Sign in with an API token pasted into the form."""
    form = await form_of(request)
    next_path = safe_next(form.get("next"))
    cookie = request.cookies.get(LOGIN_COOKIE, "")
    presented = form.get(CSRF_FIELD, "")
    if not cookie or not hmac.compare_digest(cookie.encode(), presented.encode()):
        return _login_page(
            request,
            next_path,
            message="The sign-in form expired (or cookies are off): please try again.",
            status=403,
        )
    token = form.get("token", "").strip()
    if not token:
        return _login_page(request, next_path, message="token: paste an API token.", status=400)
    steward = steward_of(request)
    try:
        if looks_like_jwt(token):
            raise Unauthenticated("that is a JWT: use 'Sign in with OIDC' instead")
        principal = await run_in_threadpool(authenticate, steward.store, token)
    except Unauthenticated as exc:
        await _audit_refusal(request, token, exc.message)
        return _login_page(request, next_path, message=f"Not signed in: {exc.message}", status=401)
    # A browser signing in again leaves no older session of its own behind.
    await run_in_threadpool(sessions.end, steward.store, request.cookies.get(COOKIE))
    secret = await run_in_threadpool(
        sessions.start, steward.store, principal, via="token", settings=steward.settings
    )
    return _signed_in_response(request, secret, next_path)


@router.get("/login/oidc")
def get_login_oidc(
    request: Request, next: Annotated[str | None, Query(max_length=2000)] = None
) -> Response:
    """Start the OIDC sign-in: off to the issuer with a fresh state, nonce and PKCE challenge."""
    steward = steward_of(request)
    client = oidc_login.client_of(steward.settings)
    if client is None:
        return _login_page(
            request, safe_next(next), message="OIDC is not configured here.", status=404
        )
    try:
        endpoints = oidc_login.discover(client)
    except Unauthenticated as exc:
        return _login_page(request, safe_next(next), message=exc.message, status=502)
    sign_in = sessions.begin_sign_in(steward.store, safe_next(next))
    redirect_uri = _redirect_uri(request)
    response = RedirectResponse(
        oidc_login.authorization_url(client, endpoints, sign_in, redirect_uri), status_code=303
    )
    set_cookie(
        request, response, STATE_COOKIE, sign_in.state, max_age=sessions.SIGN_IN_MINUTES * 60
    )
    return response


def _redirect_uri(request: Request) -> str:
    from steward.web.auth import base_url

    return base_url(request) + CALLBACK


@router.get(CALLBACK)
def get_login_callback(request: Request) -> Response:
    """Where the issuer sends the browser back: check state, exchange the code, verify."""
    steward = steward_of(request)
    client = oidc_login.client_of(steward.settings)
    params = dict(request.query_params)
    try:
        if client is None:
            raise Unauthenticated("OIDC is not configured here")
        code, state = oidc_login.callback_code(params)
        cookie = request.cookies.get(STATE_COOKIE, "")
        if not cookie or not hmac.compare_digest(cookie.encode(), state.encode()):
            raise Unauthenticated("this sign-in was not started from this browser")
        sign_in = sessions.finish_sign_in(steward.store, state)
        if sign_in is None:
            raise Unauthenticated("this sign-in is unknown, used or too old; start again")
        endpoints = oidc_login.discover(client)
        id_token = oidc_login.exchange(client, endpoints, code, sign_in, _redirect_uri(request))
        principal = oidc_login.principal_of(steward.settings, id_token, sign_in)
    except StewardError as exc:
        return _login_page(request, "/", message=f"Not signed in: {exc.message}", status=401)
    sessions.end(steward.store, request.cookies.get(COOKIE))
    secret = sessions.start(steward.store, principal, via="oidc", settings=steward.settings)
    return _signed_in_response(request, secret, sign_in.next_path)


@router.post("/logout")
async def post_logout(
    request: Request, session: Annotated[WebSession, Depends(signed_in)]
) -> Response:
    """Sign out: the session ends on the server and the cookie is cleared."""
    form = await form_of(request)
    check_csrf(session, form.get(CSRF_FIELD))
    await run_in_threadpool(
        partial(sessions.end, actor=session.principal),
        steward_of(request).store,
        request.cookies.get(COOKIE),
    )
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(COOKIE, path="/")
    return response
