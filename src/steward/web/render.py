"""Pages rendered from the package's Jinja2 templates, with the headers every page gets."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jinja2
from fastapi import Request
from starlette.responses import HTMLResponse

from steward import __version__
from steward.identity.sessions import WebSession

TEMPLATES = Path(__file__).parent / "templates"
STATIC = Path(__file__).parent / "static"

# Everything from this server, nothing inline, no frames: a page cannot load or send
# anything elsewhere even if some text slipped past escaping.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:;"
        " object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}

# The top navigation; `admin` entries are shown to admins only.
NAVIGATION = (
    {"href": "/", "label": "Search", "admin": False},
    {"href": "/lineage", "label": "Lineage", "admin": False},
    {"href": "/audit", "label": "Audit", "admin": True},
    {"href": "/policies", "label": "Policies", "admin": True},
    {"href": "/api/docs", "label": "API", "admin": False},
)


def environment() -> jinja2.Environment:
    """The template environment: autoescaped HTML; a key a value lacks renders as nothing."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=jinja2.select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals["version"] = __version__
    env.globals["navigation"] = NAVIGATION
    return env


def page(
    request: Request,
    template: str,
    context: dict[str, Any],
    *,
    session: WebSession | None,
    status: int = 200,
    title: str = "",
) -> HTMLResponse:
    """One page, as the signed-in principal (if any) sees it."""
    env: jinja2.Environment = request.app.state.web_templates
    html = env.get_template(template).render(
        request_path=request.url.path,
        session=session,
        principal=session.principal if session else None,
        csrf_token=session.csrf_token if session else "",
        title=title,
        **context,
    )
    return HTMLResponse(html, status_code=status, headers=SECURITY_HEADERS)
