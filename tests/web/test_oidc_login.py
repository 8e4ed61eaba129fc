"""'Sign in with OIDC' against a real provider: panva's `oidc-provider` from the npm
registry, run by the machine's Node.js on loopback. The browser goes through the
provider's login and consent pages and comes back signed in with its groups."""

from __future__ import annotations

import json
import re
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import _free_port, _stop
from tests.web.cached_npm import cached_npm
from tests.web.conftest import screenshot, start_server

pytestmark = pytest.mark.timeout(300)
CLIENT_ID = "steward-web"
CLIENT_SECRET = "test-only-client-secret"
ACCOUNTS = {"carol": ["stewards", "analysts"], "dave": ["analysts"]}


@dataclass
class Provider:
    issuer: str
    steward: str  # Steward's URL, configured to sign in there


@pytest.fixture
def oidc(tmp_path: Path) -> Iterator[Provider]:
    project = cached_npm("oidc-provider", Path(__file__).parent / "oidc")
    provider_port, steward_port = _free_port(), _free_port()
    issuer = f"http://127.0.0.1:{provider_port}"
    steward_url = f"http://127.0.0.1:{steward_port}"
    env = {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "PORT": str(provider_port),
        "CLIENT_ID": CLIENT_ID,
        "CLIENT_SECRET": CLIENT_SECRET,
        "REDIRECT_URI": f"{steward_url}/login/oidc/callback",
        "ACCOUNTS": json.dumps(ACCOUNTS),
    }
    with (tmp_path / "provider.log").open("w") as log:
        node = subprocess.Popen(
            ["node", "provider.mjs"], cwd=project, env=env, stdout=log, stderr=subprocess.STDOUT
        )
    try:
        _wait_for(f"{issuer}/.well-known/openid-configuration", node, tmp_path / "provider.log")
        home = tmp_path / "home"
        home.mkdir()
        url, server, _ = start_server(
            home,
            {
                "STEWARD_OIDC_ISSUER": issuer,
                "STEWARD_OIDC_AUDIENCE": CLIENT_ID,
                "STEWARD_OIDC_JWKS_URL": f"{issuer}/jwks",
                "STEWARD_OIDC_ADMIN_GROUPS": '["stewards"]',
                "STEWARD_WEB_OIDC_CLIENT_SECRET": CLIENT_SECRET,
            },
            port=steward_port,
        )
        try:
            yield Provider(issuer, url)
        finally:
            _stop(server)
    finally:
        node.terminate()
        node.wait(timeout=10)


def _wait_for(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"oidc-provider exited: {log.read_text()[-2000:]}")
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise RuntimeError(f"oidc-provider did not answer in 30 s: {log.read_text()[-2000:]}")


def _sign_in_at_provider(page: Any, steward: str, login: str, next_path: str = "/") -> None:
    from playwright.sync_api import expect

    # The provider's development pages import a web font; nothing here leaves the machine.
    page.context.route(re.compile(r"^https://fonts\."), lambda route: route.abort())
    page.goto(f"{steward}{next_path}")
    screenshot(page, "login-oidc")
    page.get_by_role("link", name="Sign in with OIDC").click()
    page.locator("input[name=login]").fill(login)
    page.locator("input[name=password]").fill("any password")
    page.get_by_role("button", name="Sign-in").click()
    expect(page.get_by_role("button", name="Continue")).to_be_visible()
    screenshot(page, "oidc-provider-consent")
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url(re.compile(re.escape(steward)))


def test_oidc_sign_in_lands_signed_in_with_the_providers_groups(oidc: Provider, page: Any) -> None:
    from playwright.sync_api import expect

    _sign_in_at_provider(page, oidc.steward, "carol", "/policies")
    # Back where the sign-in started, as carol, an admin through the `stewards` group.
    expect(page).to_have_url(f"{oidc.steward}/policies")
    who = page.get_by_test_id("signed-in-as")
    expect(who).to_contain_text("carol@example.com")
    expect(who).to_contain_text("admin")
    expect(who).to_have_attribute("title", "groups: analysts, stewards")
    screenshot(page, "oidc-signed-in")
    # The session is one like any other: the JSON API answers with it.
    answer = page.request.get(f"{oidc.steward}/api/v1/policy")
    assert answer.status in (200, 404), answer.text()
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(f"{oidc.steward}/login")


def test_oidc_user_outside_the_admin_groups_is_not_an_admin(oidc: Provider, page: Any) -> None:
    from playwright.sync_api import expect

    _sign_in_at_provider(page, oidc.steward, "dave")
    who = page.get_by_test_id("signed-in-as")
    expect(who).to_contain_text("dave@example.com")
    expect(who).not_to_contain_text("admin")
    expect(who).to_have_attribute("title", "groups: analysts")
    response = page.goto(f"{oidc.steward}/policies")
    assert response is not None
    assert response.status == 403


@pytest.mark.slow
def test_a_callback_this_browser_did_not_start_is_refused(oidc: Provider) -> None:
    # Someone else's sign-in (their state, their code) replayed in another browser.
    with httpx.Client(base_url=oidc.steward) as other:
        started = other.get("/login/oidc", follow_redirects=False)
        assert started.status_code == 303
        location = started.headers["location"]
        assert location.startswith(f"{oidc.issuer}/auth?")
        for part in ("code_challenge_method=S256", "code_challenge=", "nonce=", "state="):
            assert part in location
        state = re.search(r"state=([^&]+)", location)
        assert state is not None
    with httpx.Client(base_url=oidc.steward) as victim:
        answer = victim.get(f"/login/oidc/callback?code=stolen&state={state.group(1)}")
        assert answer.status_code == 401
        assert "not started from this browser" in answer.text
        assert "steward_session" not in victim.cookies


def test_pkce_challenge_is_rfc_7636s_s256() -> None:
    from steward.web.oidc_login import code_challenge

    # RFC 7636, appendix B.
    verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
    assert code_challenge(verifier) == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
