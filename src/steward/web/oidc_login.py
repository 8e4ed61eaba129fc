"""'Sign in with OIDC': the authorization code flow with PKCE against `oidc_issuer`.

The issuer's discovery document names its endpoints; the browser is sent to the
authorization endpoint with a fresh `state`, `nonce` and S256 code challenge; the code
that comes back is exchanged (with the code verifier) for tokens; the ID token is
checked by the same `OidcVerifier` that checks bearer JWTs (signature, `iss`, `aud`,
`exp`), then its `nonce`, and it maps to a principal the same way (user and groups
claims, admin groups, scopes).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

from steward.config import Settings
from steward.errors import InvalidInput, Unauthenticated
from steward.identity.models import Principal
from steward.identity.oidc import verifier_for
from steward.identity.sessions import SignIn

TIMEOUT_SECONDS = 10.0
_LOOPBACK = {"127.0.0.1", "::1", "localhost"}


@dataclass(frozen=True)
class Client:
    """Steward as a client of the issuer."""

    issuer: str
    client_id: str
    client_secret: str | None
    scopes: tuple[str, ...]


def client_of(settings: Settings) -> Client | None:
    """The OIDC client the settings describe, or None when OIDC is off."""
    if not settings.oidc_enabled or not settings.oidc_issuer:
        return None
    client_id = settings.web_oidc_client_id or settings.oidc_audience
    if not client_id:
        return None
    return Client(
        issuer=settings.oidc_issuer,
        client_id=client_id,
        client_secret=settings.web_oidc_client_secret,
        scopes=tuple(settings.web_oidc_scopes),
    )


def _checked_url(url: Any, what: str) -> str:
    """An endpoint URL from the issuer: https, or plain http on the loopback interface."""
    if not isinstance(url, str):
        raise Unauthenticated(f"the issuer's discovery document has no {what}")
    parts = urlsplit(url)
    if parts.scheme == "https" or (parts.scheme == "http" and parts.hostname in _LOOPBACK):
        return url
    raise Unauthenticated(f"the issuer's {what} {url!r} is not https")


def discover(client: Client) -> dict[str, str]:
    """The issuer's authorization and token endpoints, from its discovery document."""
    import httpx

    url = client.issuer.rstrip("/") + "/.well-known/openid-configuration"
    try:
        response = httpx.get(url, timeout=TIMEOUT_SECONDS, follow_redirects=False)
        response.raise_for_status()
        document = response.json()
    except (httpx.HTTPError, ValueError) as exc:
        raise Unauthenticated(f"cannot read the issuer's discovery document {url}: {exc}") from None
    if not isinstance(document, dict):
        raise Unauthenticated(f"the issuer's discovery document {url} is not a JSON object")
    return {
        "authorization": _checked_url(
            document.get("authorization_endpoint"), "authorization_endpoint"
        ),
        "token": _checked_url(document.get("token_endpoint"), "token_endpoint"),
    }


def code_challenge(verifier: str) -> str:
    """The S256 PKCE challenge of a code verifier (RFC 7636)."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def authorization_url(
    client: Client, endpoints: dict[str, str], sign_in: SignIn, redirect_uri: str
) -> str:
    """Where to send the browser to sign in at the issuer."""
    query = {
        "response_type": "code",
        "client_id": client.client_id,
        "redirect_uri": redirect_uri,
        "scope": " ".join(client.scopes),
        "state": sign_in.state,
        "nonce": sign_in.nonce,
        "code_challenge": code_challenge(sign_in.code_verifier),
        "code_challenge_method": "S256",
    }
    return f"{endpoints['authorization']}?{urlencode(query)}"


def exchange(
    client: Client, endpoints: dict[str, str], code: str, sign_in: SignIn, redirect_uri: str
) -> str:
    """Trade the authorization code (and the code verifier) for the ID token."""
    import httpx

    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": redirect_uri,
        "code_verifier": sign_in.code_verifier,
        "client_id": client.client_id,
    }
    auth = (client.client_id, client.client_secret) if client.client_secret else None
    try:
        response = httpx.post(endpoints["token"], data=form, auth=auth, timeout=TIMEOUT_SECONDS)
    except httpx.HTTPError as exc:
        raise Unauthenticated(f"the issuer's token endpoint did not answer: {exc}") from None
    try:
        answer = response.json()
    except ValueError:
        answer = {}
    if response.status_code != 200 or not isinstance(answer, dict):
        reason = answer.get("error_description") or answer.get("error") if answer else None
        raise Unauthenticated(
            f"the issuer refused the sign-in code ({response.status_code}: {reason or 'no reason'})"
        )
    id_token = answer.get("id_token")
    if not isinstance(id_token, str):
        raise Unauthenticated("the issuer's token answer has no id_token")
    return id_token


def principal_of(settings: Settings, id_token: str, sign_in: SignIn) -> Principal:
    """The principal an ID token proves, once it is verified and carries our nonce."""
    verifier = verifier_for(settings)
    if verifier is None:
        raise Unauthenticated("OIDC is not configured: sign in with an API token")
    claims = verifier.claims(id_token)
    nonce = claims.get("nonce")
    if not isinstance(nonce, str) or not hmac.compare_digest(nonce, sign_in.nonce):
        raise Unauthenticated("the ID token's nonce is not the one this sign-in sent")
    return verifier.principal(claims)


def callback_code(params: dict[str, str]) -> tuple[str, str]:
    """The `code` and `state` of the issuer's redirect; its `error` as a refusal."""
    if params.get("error"):
        reason = params.get("error_description") or params["error"]
        raise Unauthenticated(f"the issuer did not sign you in: {reason[:300]}")
    code, state = params.get("code"), params.get("state")
    if not code or not state:
        raise InvalidInput("code, state: the issuer's redirect lacks them")
    return code, state
