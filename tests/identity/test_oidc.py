"""OIDC bearer JWTs from a test issuer whose JWKS is served on 127.0.0.1."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import jwt
import pytest
from fastapi.testclient import TestClient

from steward.api import create_app
from steward.app import Steward
from steward.audit.log import AuditFilter, list_records
from steward.config import Settings
from steward.errors import ConfigError, Unauthenticated
from steward.identity.oidc import OidcSettings, OidcVerifier, looks_like_jwt
from steward.identity.tokens import create_token
from tests.identity.conftest import AUDIENCE, ISSUER, Issuer
from tests.openlineage_events import dataset, run_event


def verifier(issuer: Issuer, **changes: object) -> OidcVerifier:
    refetch = changes.pop("refetch_seconds", 10.0)
    settings = {"issuer": ISSUER, "audience": AUDIENCE, "jwks_url": issuer.url, **changes}
    return OidcVerifier(OidcSettings(**settings), refetch_seconds=float(refetch))  # type: ignore[arg-type]


def refused(check: OidcVerifier, token: str) -> str:
    """The reason a token is refused; the reason never repeats the token."""
    with pytest.raises(Unauthenticated) as caught:
        check.verify(token)
    assert caught.value.http_status == 401
    assert token not in caught.value.message
    assert token.split(".")[-1] not in caught.value.message or not token.split(".")[-1]
    return caught.value.message


def test_a_valid_token_gives_the_user_and_groups(issuer: Issuer) -> None:
    principal = verifier(issuer).verify(issuer.token())
    assert principal.user == "ana@example.com"
    assert principal.groups == {"analysts", "analysts-eu"}
    assert not principal.is_admin
    assert principal.token_id is None


def test_alg_none_is_refused(issuer: Issuer) -> None:
    assert "'none' is not allowed" in refused(verifier(issuer), issuer.unsigned_token())


def test_hs256_signed_with_the_public_key_is_refused(issuer: Issuer) -> None:
    token = issuer.public_key_hs256_token()
    assert "'HS256' is not allowed" in refused(verifier(issuer), token)
    # Even an operator who pins HS256 cannot open that door: it is refused as a setting.
    with pytest.raises(ConfigError, match="HS256"):
        Settings(oidc_algorithms=["RS256", "HS256"])


def test_expired_token_is_refused(issuer: Issuer) -> None:
    now = int(time.time())
    token = issuer.token(iat=now - 3600, exp=now - 120)
    assert refused(verifier(issuer), token) == "token expired"


def test_expiry_within_the_leeway_is_accepted(issuer: Issuer) -> None:
    now = int(time.time())
    assert verifier(issuer).verify(issuer.token(exp=now - 5)).user == "ana@example.com"


def test_token_not_yet_valid_is_refused(issuer: Issuer) -> None:
    now = int(time.time())
    token = issuer.token(nbf=now + 600, exp=now + 1200)
    assert "not yet valid" in refused(verifier(issuer), token)


def test_wrong_issuer_is_refused(issuer: Issuer) -> None:
    token = issuer.token(iss="https://evil.example.test")
    assert refused(verifier(issuer), token) == f"wrong issuer: the token is not from {ISSUER}"


def test_wrong_audience_is_refused(issuer: Issuer) -> None:
    token = issuer.token(aud="another-app")
    assert "wrong audience" in refused(verifier(issuer), token)


def test_audience_may_be_one_of_a_list(issuer: Issuer) -> None:
    token = issuer.token(aud=["another-app", AUDIENCE])
    assert verifier(issuer).verify(token).user == "ana@example.com"


def test_unknown_kid_is_refused(issuer: Issuer) -> None:
    issuer.add_rsa_key("never-published", publish=False)
    token = issuer.token(kid="never-published")
    assert (
        refused(verifier(issuer), token)
        == "unknown kid 'never-published': not in the issuer's JWKS"
    )


def test_token_signed_by_another_key_under_a_known_kid_is_refused(issuer: Issuer) -> None:
    issuer.add_rsa_key("other", publish=False)
    forged = Issuer()
    forged.keys["key-1"] = issuer.keys["other"]
    token = forged.token(kid="key-1")
    assert "signature" in refused(verifier(issuer), token)


def test_tampered_claims_are_refused(issuer: Issuer) -> None:
    header, _, signature = issuer.token().split(".")
    other_payload = issuer.token(email="root@example.com").split(".")[1]
    assert "signature" in refused(verifier(issuer), f"{header}.{other_payload}.{signature}")


def test_algorithm_outside_the_pinned_list_is_refused(issuer: Issuer) -> None:
    token = issuer.token(alg="RS512")
    assert "'RS512' is not allowed (allowed: RS256)" in refused(verifier(issuer), token)
    allowed = verifier(issuer, algorithms=("RS256", "RS512"))
    assert allowed.verify(token).user == "ana@example.com"


def test_ec_keys_work_and_an_algorithm_must_fit_its_key(issuer: Issuer) -> None:
    issuer.add_ec_key("ec-1")
    both = verifier(issuer, algorithms=("RS256", "ES256"))
    assert both.verify(issuer.token(kid="ec-1", alg="ES256")).user == "ana@example.com"
    # An RS256 token whose header names the EC key: refused before any signature is checked.
    token = jwt.encode(issuer.claims(), issuer.keys["key-1"], "RS256", headers={"kid": "ec-1"})
    assert refused(both, token) == "token algorithm RS256 does not fit key 'ec-1' (EC)"


def test_a_key_that_declares_its_algorithm_verifies_only_that_one(issuer: Issuer) -> None:
    issuer.published.append({**issuer.published[0], "kid": "key-384", "alg": "RS384"})
    check = verifier(issuer, algorithms=("RS256", "RS384"))
    token = jwt.encode(issuer.claims(), issuer.keys["key-1"], "RS256", headers={"kid": "key-384"})
    assert "declared for RS384" in refused(check, token)
    signed = jwt.encode(issuer.claims(), issuer.keys["key-1"], "RS384", headers={"kid": "key-384"})
    assert check.verify(signed).user == "ana@example.com"


def test_a_token_without_exp_is_refused(issuer: Issuer) -> None:
    assert refused(verifier(issuer), issuer.token(exp=None)) == "token has no 'exp' claim"


def test_jwks_from_a_local_file(issuer: Issuer, tmp_path: Path) -> None:
    keys = tmp_path / "jwks.json"
    keys.write_text(json.dumps(issuer.jwks()))
    check = OidcVerifier(OidcSettings(issuer=ISSUER, audience=AUDIENCE, jwks_file=keys))
    assert check.verify(issuer.token()).groups == {"analysts", "analysts-eu"}
    assert issuer.requests == 0


def test_a_missing_jwks_file_is_a_config_error(tmp_path: Path, issuer: Issuer) -> None:
    missing = tmp_path / "nope.json"
    check = OidcVerifier(OidcSettings(issuer=ISSUER, audience=AUDIENCE, jwks_file=missing))
    with pytest.raises(ConfigError, match="oidc_jwks_file: cannot read"):
        check.verify(issuer.token())


def test_key_rotation_a_new_kid_is_fetched(issuer: Issuer) -> None:
    check = verifier(issuer, refetch_seconds=0)
    assert check.verify(issuer.token()).user == "ana@example.com"
    issuer.add_rsa_key("key-2")  # the issuer rotates: key-2 appears in its JWKS
    assert check.verify(issuer.token(kid="key-2")).user == "ana@example.com"
    assert issuer.requests == 2


def test_an_unreachable_issuer_is_refused_with_a_clear_reason(issuer: Issuer) -> None:
    missing = OidcSettings(ISSUER, AUDIENCE, jwks_url=issuer.url.replace("/keys", "/nope"))
    message = refused(OidcVerifier(missing), issuer.token())
    assert message.startswith("cannot fetch the issuer's keys from http://127.0.0.1:")


def test_keys_are_cached_between_tokens(issuer: Issuer) -> None:
    check = verifier(issuer)
    for _ in range(5):
        check.verify(issuer.token())
    assert issuer.requests == 1


def test_a_flood_of_unknown_kids_does_not_hammer_the_issuer(issuer: Issuer) -> None:
    check = verifier(issuer, refetch_seconds=3600)
    check.verify(issuer.token())
    issuer.add_rsa_key("unpublished", publish=False)
    for number in range(20):
        assert "unknown kid" in refused(check, issuer.token(kid="unpublished", jti=str(number)))
    assert issuer.requests == 1


def test_groups_as_a_list_a_string_or_missing(issuer: Issuer) -> None:
    check = verifier(issuer)
    assert check.verify(issuer.token(groups=["a", "b"])).groups == {"a", "b"}
    assert check.verify(issuer.token(groups="platform")).groups == {"platform"}
    assert check.verify(issuer.token(groups=None)).groups == frozenset()
    assert "not a list of group names" in refused(check, issuer.token(groups={"a": 1}))


def test_missing_user_claim_is_refused(issuer: Issuer) -> None:
    message = refused(verifier(issuer), issuer.token(email=None))
    assert message == "token has no 'email' claim to name the user"


def test_claims_are_configurable_keycloak_style(issuer: Issuer) -> None:
    check = verifier(issuer, user_claim="preferred_username", groups_claim="realm_access.roles")
    token = issuer.token(preferred_username="bob", realm_access={"roles": ["platform"]})
    principal = check.verify(token)
    assert principal.user == "bob"
    assert principal.groups == {"platform"}


def test_admin_groups_make_an_admin(issuer: Issuer) -> None:
    check = verifier(issuer, admin_groups=frozenset({"platform"}))
    assert check.verify(issuer.token(groups=["platform"])).is_admin
    assert not check.verify(issuer.token(groups=["analysts"])).is_admin


def test_settings_turn_oidc_on_only_when_complete(issuer: Issuer, tmp_path: Path) -> None:
    assert not Settings(home=tmp_path).oidc_enabled
    assert OidcSettings.from_settings(Settings(home=tmp_path)) is None
    with pytest.raises(ConfigError, match="oidc_audience"):
        Settings(home=tmp_path, oidc_issuer=ISSUER, oidc_jwks_url=issuer.url)
    with pytest.raises(ConfigError, match="set one of them"):
        Settings(oidc_issuer=ISSUER, oidc_jwks_url=issuer.url, oidc_jwks_file=tmp_path / "k")
    with pytest.raises(ConfigError, match="must be https"):
        OidcVerifier(OidcSettings(ISSUER, AUDIENCE, jwks_url="http://dex.example.test/keys"))


def test_jwt_shape_is_told_apart_from_api_tokens(issuer: Issuer) -> None:
    assert looks_like_jwt(issuer.token())
    assert looks_like_jwt(issuer.unsigned_token())
    assert not looks_like_jwt("stw_0123456789ab_" + "A" * 43)
    assert not looks_like_jwt("a.b")


# Through the API: a Steward configured for the test issuer.


@pytest.fixture
def oidc_steward(issuer: Issuer, tmp_path: Path, database_url: str | None) -> Iterator[Steward]:
    settings = Settings(
        home=tmp_path / "home",
        database_url=database_url,
        oidc_issuer=ISSUER,
        oidc_audience=AUDIENCE,
        oidc_jwks_url=issuer.url,
        oidc_admin_groups=["platform"],
        lineage_write_groups=["analysts"],
    )
    instance = Steward(settings)
    instance.upgrade()
    yield instance
    instance.close()


@pytest.fixture
def http(oidc_steward: Steward) -> Iterator[TestClient]:
    with TestClient(create_app(oidc_steward), raise_server_exceptions=True) as client:
        yield client


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_api_accepts_a_valid_jwt_and_acts_as_its_user(
    http: TestClient, oidc_steward: Steward, issuer: Issuer
) -> None:
    token = issuer.token()
    assert http.get("/api/v1/namespaces", headers=bearer(token)).status_code == 200
    event = run_event("etl", inputs=[dataset("wh", "a")], outputs=[dataset("wh", "b")])
    assert http.post("/api/v1/lineage", json=event, headers=bearer(token)).status_code == 201
    with oidc_steward.store.read() as conn:
        ingest = list_records(conn, AuditFilter(action="lineage.ingest"))[0].to_json()
    assert ingest["actor"]["user"] == "ana@example.com"  # type: ignore[index]
    assert ingest["actor"]["groups"] == ["analysts", "analysts-eu"]  # type: ignore[index]


def test_api_admin_groups_reach_admin_routes(http: TestClient, issuer: Issuer) -> None:
    analyst = issuer.token()
    admin = issuer.token(email="pat@example.com", groups=["platform"])
    assert http.get("/api/v1/audit", headers=bearer(analyst)).status_code == 403
    assert http.get("/api/v1/audit", headers=bearer(admin)).status_code == 200


@pytest.mark.parametrize(
    ("case", "reason"),
    [
        ("none", "'none' is not allowed"),
        ("hs256", "'HS256' is not allowed"),
        ("expired", "token expired"),
        ("not_yet_valid", "not yet valid"),
        ("wrong_issuer", "wrong issuer"),
        ("wrong_audience", "wrong audience"),
        ("unknown_kid", "unknown kid"),
    ],
)
def test_api_refuses_bad_jwts_with_401_and_records_them(
    http: TestClient, oidc_steward: Steward, issuer: Issuer, case: str, reason: str
) -> None:
    now = int(time.time())
    if case == "unknown_kid":
        issuer.add_rsa_key("stranger", publish=False)
    token = {
        "none": lambda: issuer.unsigned_token(),
        "hs256": lambda: issuer.public_key_hs256_token(),
        "expired": lambda: issuer.token(iat=now - 3600, exp=now - 600),
        "not_yet_valid": lambda: issuer.token(nbf=now + 600),
        "wrong_issuer": lambda: issuer.token(iss="https://evil.example.test"),
        "wrong_audience": lambda: issuer.token(aud="grafana"),
        "unknown_kid": lambda: issuer.token(kid="stranger"),
    }[case]()
    response = http.get("/api/v1/namespaces", headers=bearer(token))
    assert response.status_code == 401
    assert reason in response.json()["error"]
    assert response.headers["www-authenticate"] == "Bearer"
    with oidc_steward.store.read() as conn:
        failed = [r.to_json() for r in list_records(conn, AuditFilter(action="auth.failed"))]
    assert len(failed) == 1
    assert reason in failed[0]["details"]["reason"]  # type: ignore[index]
    assert failed[0]["decision"] == "failed"
    hints = failed[0]["details"]["jwt"]  # type: ignore[index]
    assert hints["kid"] == ("stranger" if case == "unknown_kid" else "key-1")
    assert token not in json.dumps(failed)
    assert token.split(".")[1] not in json.dumps(failed)


def test_api_tokens_keep_working_beside_oidc(http: TestClient, oidc_steward: Steward) -> None:
    issued = create_token(oidc_steward.store, user="ci-bot")
    assert http.get("/api/v1/namespaces", headers=bearer(issued.secret)).status_code == 200


def test_api_refuses_jwts_when_oidc_is_not_configured(
    anonymous: TestClient, issuer: Issuer
) -> None:
    response = anonymous.get("/api/v1/namespaces", headers=bearer(issuer.token()))
    assert response.status_code == 401
    assert response.json()["error"].startswith("OIDC is not configured")
