"""What a verified JWT says beyond the user and groups: a verified email, attributes, scopes."""

from __future__ import annotations

import pytest

from steward.config import Settings
from steward.errors import Unauthenticated
from steward.identity.models import LINEAGE_WRITE, SCHEMA_WRITE
from steward.identity.oidc import OidcSettings, OidcVerifier
from tests.identity.conftest import AUDIENCE, ISSUER, Issuer


def verifier(issuer: Issuer, **settings: object) -> OidcVerifier:
    base = Settings(
        oidc_issuer=ISSUER, oidc_audience=AUDIENCE, oidc_jwks_url=issuer.url, **settings
    )
    oidc = OidcSettings.from_settings(base)
    assert oidc is not None
    return OidcVerifier(oidc)


@pytest.mark.parametrize("flag", [False, "false", "False"])
def test_an_unverified_email_naming_the_user_is_refused(issuer: Issuer, flag: object) -> None:
    token = issuer.token(email_verified=flag)
    with pytest.raises(Unauthenticated) as caught:
        verifier(issuer).verify(token)
    assert caught.value.message == (
        "the email in claim 'email' is not verified by the issuer (email_verified is false)"
    )


def test_a_verified_or_unstated_email_is_accepted(issuer: Issuer) -> None:
    check = verifier(issuer)
    assert check.verify(issuer.token(email_verified=True)).user == "ana@example.com"
    # Many issuers send `email_verified` only when they know; its absence is not a refusal.
    assert check.verify(issuer.token()).user == "ana@example.com"


def test_another_user_claim_holding_the_email_is_checked_too(issuer: Issuer) -> None:
    check = verifier(issuer, oidc_user_claim="preferred_username")
    token = issuer.token(preferred_username="ana@example.com", email_verified=False)
    with pytest.raises(Unauthenticated, match="not verified"):
        check.verify(token)
    # A user named by something else than the unverified email is who the claim says.
    other = issuer.token(preferred_username="ana", email_verified=False)
    assert check.verify(other).user == "ana"


def test_the_check_can_be_turned_off(issuer: Issuer) -> None:
    check = verifier(issuer, oidc_require_verified_email=False)
    assert check.verify(issuer.token(email_verified=False)).user == "ana@example.com"


def test_attributes_come_from_the_configured_claims(issuer: Issuer) -> None:
    check = verifier(
        issuer,
        oidc_attribute_claims={
            "region": "region",
            "tenant": "org.tenant",
            "level": "clearance",
            "absent": "nothing",
        },
    )
    token = issuer.token(region="EU", org={"tenant": "acme"}, clearance=3)
    principal = check.verify(token)
    assert principal.attribute_map == {"region": "EU", "tenant": "acme", "level": "3"}


def test_an_attribute_claim_that_is_not_a_value_is_refused(issuer: Issuer) -> None:
    check = verifier(issuer, oidc_attribute_claims={"region": "region"})
    with pytest.raises(Unauthenticated, match="claim 'region' \\(attribute 'region'\\)"):
        check.verify(issuer.token(region=["EU", "US"]))


def test_lineage_write_groups_give_the_scope(issuer: Issuer) -> None:
    check = verifier(issuer, lineage_write_groups=["pipelines"], oidc_admin_groups=["platform"])
    analyst = check.verify(issuer.token())
    assert analyst.scopes == frozenset()
    assert not analyst.may(LINEAGE_WRITE)
    pipeline = check.verify(issuer.token(email="etl@example.com", groups=["pipelines"]))
    assert pipeline.scopes == {LINEAGE_WRITE}
    admin = check.verify(issuer.token(email="pat@example.com", groups=["platform"]))
    assert admin.may(LINEAGE_WRITE)


def test_schema_write_groups_give_the_schema_scope(issuer: Issuer) -> None:
    check = verifier(issuer, schema_write_groups=["kafka-owners"], lineage_write_groups=["etl"])
    owner = check.verify(issuer.token(email="kim@example.com", groups=["kafka-owners", "etl"]))
    assert owner.scopes == {SCHEMA_WRITE, LINEAGE_WRITE}
    analyst = check.verify(issuer.token())
    assert not analyst.may(SCHEMA_WRITE)
