"""Who a browser is: the session cookie, the CSRF check, and the sign-in redirect."""

from __future__ import annotations

from urllib.parse import parse_qsl, quote

from fastapi import Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from steward.app import Steward
from steward.config import Settings
from steward.errors import Forbidden, InvalidInput
from steward.identity.models import Principal
from steward.identity.sessions import WebSession, load

COOKIE = "steward_session"
# Before sign-in there is no session to tie a token to: the login form's CSRF token is
# a double-submit cookie (the form's hidden field must equal it).
LOGIN_COOKIE = "steward_login_csrf"
# The OIDC `state` of the sign-in this browser started, so that a redirect carrying a
# state someone else started (login CSRF) is refused.
STATE_COOKIE = "steward_oidc_state"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
MAX_FORM_BYTES = 1024 * 1024


class SignInNeeded(Exception):
    """A page was asked for without a session: the answer is a redirect to /login."""

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


def steward_of(request: Request) -> Steward:
    """The `Steward` this app serves."""
    steward: Steward = request.app.state.steward
    return steward


def is_https(request: Request, settings: Settings) -> bool:
    """Whether the browser reached us over https (a trusted proxy's word counts)."""
    if settings.web_trust_proxy:
        forwarded = request.headers.get("x-forwarded-proto", "")
        if forwarded:
            return forwarded.split(",")[0].strip().lower() == "https"
    return request.url.scheme == "https"


def base_url(request: Request) -> str:
    """This server's address as the browser sees it (for the OIDC redirect URI)."""
    settings = steward_of(request).settings
    scheme = "https" if is_https(request, settings) else request.url.scheme
    host = request.headers.get("host") or request.url.netloc
    return f"{scheme}://{host}"


def set_cookie(
    request: Request, response: Response, name: str, value: str, *, max_age: int | None
) -> None:
    """A cookie scripts cannot read, sent on same-site requests and top-level navigation."""
    settings = steward_of(request).settings
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path="/",
        httponly=True,
        samesite="lax",
        secure=is_https(request, settings),
    )


def safe_next(value: str | None) -> str:
    """A same-site relative path to go to after sign-in; anything else goes home."""
    if not value or not value.startswith("/") or value.startswith("//"):
        return "/"
    if "\\" in value or any(ord(ch) < 0x20 for ch in value):
        return "/"
    return value


async def session_of(request: Request) -> WebSession | None:
    """The browser's live session, if its cookie names one (looked up once per request)."""
    if not hasattr(request.state, "web_session"):
        steward = steward_of(request)
        secret = request.cookies.get(COOKIE)
        found = None
        if secret:
            found = await run_in_threadpool(load, steward.store, secret, settings=steward.settings)
        request.state.web_session = found
    session: WebSession | None = request.state.web_session
    return session


async def signed_in(request: Request) -> WebSession:
    """A page's dependency: the session, or a redirect to /login that comes back here."""
    session = await session_of(request)
    if session is None:
        here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise SignInNeeded(here)
    request.state.principal = session.principal
    return session


async def form_of(request: Request) -> dict[str, str]:
    """A posted form (`application/x-www-form-urlencoded`); the last value of each field."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind != "application/x-www-form-urlencoded":
        raise InvalidInput(f"content-type: expected a form, not {kind or 'nothing'!r}")
    body = await request.body()
    if len(body) > MAX_FORM_BYTES:
        raise InvalidInput("form: larger than 1 MiB")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidInput("form: not UTF-8") from None
    return dict(parse_qsl(text, keep_blank_values=True, max_num_fields=200))


def check_csrf(session: WebSession, presented: str | None) -> None:
    """Refuse a state-changing request that does not carry the session's CSRF token."""
    if not session.csrf_matches(presented):
        raise Forbidden(
            "csrf_token: missing or wrong; reload the page and try again (nothing was changed)"
        )


async def api_principal(request: Request) -> Principal | None:
    """The JSON API's caller from a web session cookie, when no Authorization is sent.

    A request that may change state must carry the session's CSRF token in the
    `X-CSRF-Token` header: a cookie alone is what a forged cross-site request carries.
    """
    session = await session_of(request)
    if session is None:
        return None
    if request.method not in SAFE_METHODS:
        check_csrf(session, request.headers.get(CSRF_HEADER))
    return session.principal


def login_redirect(next_path: str) -> str:
    """The sign-in page's address, coming back to `next_path` afterwards."""
    return "/login" if next_path == "/" else f"/login?next={quote(next_path, safe='/')}"
