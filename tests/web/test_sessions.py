"""The web UI through the app on SQLite and PostgreSQL: sessions and their cookie flags,
sign-out, revoked tokens, the `next` redirect, and changes refused without the token."""

from __future__ import annotations

import time
from collections.abc import Iterator
from http.cookies import SimpleCookie

import pytest
from fastapi.testclient import TestClient

from steward.api import create_app
from steward.app import Steward
from steward.config import Settings
from steward.identity.tokens import create_token, revoke_token
from tests.openlineage_events import dataset, run_event

NODE = "dataset:warehouse:analytics.orders"


def _client(steward: Steward, **https: str) -> TestClient:
    return TestClient(create_app(steward), base_url=https.get("base", "http://testserver"))


def sign_in(http: TestClient, token: str, next_path: str = "/") -> str:
    """Sign in through the form; returns where the browser was sent."""
    login = http.get("/login")
    assert login.status_code == 200
    answer = http.post(
        "/login",
        data={"token": token, "csrf_token": http.cookies["steward_login_csrf"], "next": next_path},
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text
    return answer.headers["location"]


def session_cookie(set_cookie: list[str]) -> SimpleCookie:
    for header in set_cookie:
        if header.startswith("steward_session="):
            jar: SimpleCookie = SimpleCookie()
            jar.load(header)
            return jar
    raise AssertionError(f"no session cookie in {set_cookie}")


@pytest.fixture
def admin(steward: Steward) -> str:
    token = create_token(steward.store, user="admin", is_admin=True).secret
    # A dataset to edit, known from an OpenLineage event.
    event = run_event("load_orders", outputs=[dataset("warehouse", "analytics.orders", ["id"])])
    with TestClient(create_app(steward)) as http:
        sent = http.post(
            "/api/v1/lineage", json=event, headers={"Authorization": f"Bearer {token}"}
        )
        assert sent.status_code == 201, sent.text
    return token


@pytest.fixture
def browser(steward: Steward) -> Iterator[TestClient]:
    with _client(steward) as http:
        yield http


def test_session_cookie_is_httponly_samesite_lax_and_secure_only_over_https(
    steward: Steward, admin: str, tmp_path: object
) -> None:
    with _client(steward) as http:
        http.get("/login")
        answer = http.post(
            "/login",
            data={"token": admin, "csrf_token": http.cookies["steward_login_csrf"]},
            follow_redirects=False,
        )
    cookie = session_cookie(answer.headers.get_list("set-cookie"))["steward_session"]
    assert cookie["httponly"] is True
    assert cookie["samesite"].lower() == "lax"
    assert not cookie["secure"]
    assert cookie["path"] == "/"
    # Over https the cookie is Secure.
    with _client(steward, base="https://steward.example") as http:
        sign_in(http, admin)
        assert http.get("/").status_code == 200
    with _client(steward, base="https://steward.example") as http:
        http.get("/login")
        answer = http.post(
            "/login",
            data={"token": admin, "csrf_token": http.cookies["steward_login_csrf"]},
            follow_redirects=False,
        )
    assert session_cookie(answer.headers.get_list("set-cookie"))["steward_session"]["secure"]


@pytest.mark.parametrize("trusted", [True, False])
def test_x_forwarded_proto_counts_only_when_proxies_are_trusted(
    settings: Settings, trusted: bool
) -> None:
    steward = Steward(settings.model_copy(update={"web_trust_proxy": trusted}))
    steward.upgrade()
    try:
        token = create_token(steward.store, user="admin", is_admin=True).secret
        with _client(steward) as http:
            http.get("/login")
            answer = http.post(
                "/login",
                data={"token": token, "csrf_token": http.cookies["steward_login_csrf"]},
                headers={"X-Forwarded-Proto": "https"},
                follow_redirects=False,
            )
        secure = session_cookie(answer.headers.get_list("set-cookie"))["steward_session"]["secure"]
        assert bool(secure) is trusted
    finally:
        steward.close()


def test_pages_redirect_to_login_and_come_back_only_to_this_site(
    browser: TestClient, admin: str
) -> None:
    first = browser.get("/datasets/x?tab=quality", follow_redirects=False)
    assert first.status_code == 303
    assert first.headers["location"] == "/login?next=/datasets/x%3Ftab%3Dquality"
    assert sign_in(browser, admin, "/datasets/x?tab=quality") == "/datasets/x?tab=quality"
    browser.cookies.clear()
    for elsewhere in ("https://evil.example/", "//evil.example/x", "/\\evil.example"):
        assert sign_in(browser, admin, elsewhere) == "/"
        browser.cookies.clear()


def test_login_form_without_its_csrf_cookie_is_refused(browser: TestClient, admin: str) -> None:
    answer = browser.post("/login", data={"token": admin, "csrf_token": "made-up"})
    assert answer.status_code == 403
    assert "steward_session" not in browser.cookies
    assert browser.get("/", follow_redirects=False).status_code == 303


def test_a_wrong_token_is_refused_with_the_reason(browser: TestClient) -> None:
    browser.get("/login")
    answer = browser.post(
        "/login", data={"token": "stw_nope", "csrf_token": browser.cookies["steward_login_csrf"]}
    )
    assert answer.status_code == 401
    assert "Not signed in" in answer.text
    assert "steward_session" not in browser.cookies


def test_edit_without_csrf_token_is_refused_and_changes_nothing(
    browser: TestClient, admin: str
) -> None:
    sign_in(browser, admin)
    before = browser.get(f"/api/v1/datasets/{NODE}").json()["description"]
    refused = browser.post(f"/datasets/{NODE}", data={"description": "forged"})
    assert refused.status_code == 403
    assert "csrf_token" in refused.text
    wrong = browser.post(f"/datasets/{NODE}", data={"description": "forged", "csrf_token": "x"})
    assert wrong.status_code == 403
    assert browser.get(f"/api/v1/datasets/{NODE}").json()["description"] == before
    # The same form with the page's token is saved.
    page = browser.get(f"/datasets/{NODE}").text
    token = page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    saved = browser.post(f"/datasets/{NODE}", data={"description": "Orders", "csrf_token": token})
    assert saved.status_code == 200
    assert browser.get(f"/api/v1/datasets/{NODE}").json()["description"]["text"] == "Orders"


def test_cookie_session_changing_state_through_the_json_api_needs_the_csrf_header(
    browser: TestClient, admin: str
) -> None:
    sign_in(browser, admin)
    # Reading through the JSON API with the session cookie is fine ...
    assert browser.get(f"/api/v1/datasets/{NODE}").status_code == 200
    # ... changing is not, without the session's token in X-CSRF-Token.
    forged = browser.patch(f"/api/v1/datasets/{NODE}", json={"addTags": ["forged"]})
    assert forged.status_code == 403
    tags = browser.get(f"/api/v1/datasets/{NODE}").json()["tags"]
    assert "forged" not in [t["tag"] for t in tags]
    page = browser.get(f"/datasets/{NODE}").text
    token = page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    done = browser.patch(
        f"/api/v1/datasets/{NODE}", json={"addTags": ["ok"]}, headers={"X-CSRF-Token": token}
    )
    assert done.status_code == 200, done.text
    assert "ok" in [t["tag"] for t in done.json()["tags"]]


def test_sign_out_ends_the_session_on_the_server(browser: TestClient, admin: str) -> None:
    sign_in(browser, admin)
    stolen = browser.cookies["steward_session"]
    page = browser.get("/").text
    token = page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    # Sign-out is a change too: without the token it is refused.
    assert browser.post("/logout", data={"csrf_token": ""}).status_code == 403
    out = browser.post("/logout", data={"csrf_token": token}, follow_redirects=False)
    assert out.status_code == 303
    assert out.headers["location"] == "/login"
    # The old cookie, replayed, is worth nothing.
    browser.cookies.clear()
    browser.cookies.set("steward_session", stolen)
    assert browser.get("/", follow_redirects=False).status_code == 303
    assert browser.get(f"/api/v1/datasets/{NODE}").status_code == 401


@pytest.mark.parametrize(
    "limit", [{"web_session_idle_minutes": 0.04}, {"web_session_max_hours": 0.0007}]
)
@pytest.mark.slow
def test_sessions_expire_when_idle_and_after_their_lifetime(
    settings: Settings, limit: dict[str, float]
) -> None:
    steward = Steward(settings.model_copy(update=limit))
    steward.upgrade()
    try:
        token = create_token(steward.store, user="admin", is_admin=True).secret
        with _client(steward) as http:
            sign_in(http, token)
            assert http.get("/", follow_redirects=False).status_code == 200
            time.sleep(2.8)  # 2.4 s idle, 2.52 s lifetime
            gone = http.get("/", follow_redirects=False)
            assert gone.status_code == 303
            assert gone.headers["location"] == "/login"
    finally:
        steward.close()


def test_revoking_the_token_ends_its_sessions(steward: Steward, browser: TestClient) -> None:
    issued = create_token(steward.store, user="ana", groups=["analysts"])
    sign_in(browser, issued.secret)
    assert browser.get("/", follow_redirects=False).status_code == 200
    revoke_token(steward.store, issued.token_id)
    assert browser.get("/", follow_redirects=False).status_code == 303


def test_api_docs_and_openapi_are_for_signed_in_users_only(browser: TestClient, admin: str) -> None:
    assert browser.get("/api/docs", follow_redirects=False).status_code == 303
    assert browser.get("/api/openapi.json").status_code == 401
    sign_in(browser, admin)
    docs = browser.get("/api/docs")
    assert docs.status_code == 200
    assert "/api/v1/catalog/search" in docs.text
    assert "cdn" not in docs.text.lower()
    assert '<script src="/static/steward.js"' in docs.text
    described = browser.get("/api/openapi.json").json()
    assert "/api/v1/datasets/{ref}" in described["paths"]
    # A bearer token is enough for the document, as for every API route.
    browser.cookies.clear()
    with_token = browser.get("/api/openapi.json", headers={"Authorization": f"Bearer {admin}"})
    assert with_token.status_code == 200


def test_sign_in_sign_out_and_refused_sign_ins_are_audited(
    browser: TestClient, admin: str, steward: Steward
) -> None:
    issued = create_token(steward.store, user="ana", groups=["analysts"])
    sign_in(browser, issued.secret)
    page = browser.get("/").text
    token = page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    browser.post("/logout", data={"csrf_token": token})
    browser.get("/login")
    refused = browser.post(
        "/login",
        data={"token": "stw_abc_wrong", "csrf_token": browser.cookies["steward_login_csrf"]},
    )
    assert refused.status_code == 401
    with TestClient(create_app(steward)) as http:
        http.headers["Authorization"] = f"Bearer {admin}"
        web = http.get("/api/v1/audit", params={"action": "web.*"}).json()["records"]
        failed = http.get("/api/v1/audit", params={"action": "auth.failed"}).json()["records"]
    assert [(r["action"], r["actor"]["user"]) for r in web] == [
        ("web.sign_out", "ana"),
        ("web.sign_in", "ana"),
    ]
    assert web[1]["details"] == {"via": "token"}
    assert [r["details"]["path"] for r in failed] == ["/login"]
    assert "stw_abc_wrong" not in str(failed)


def test_a_search_without_words_says_so_on_the_page(browser: TestClient, admin: str) -> None:
    sign_in(browser, admin)
    answer = browser.get("/", params={"q": "?!"})
    assert answer.status_code == 200
    assert "has no words to search for" in answer.text
