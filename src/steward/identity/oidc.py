"""OIDC bearer JWTs: a token from any issuer (Dex, Keycloak ...) proven against its JWKS.

What is checked, in order: the header's `alg` is one of the pinned asymmetric algorithms
(so `none` and HS256-signed-with-the-public-key are refused before any key is touched);
its `kid` names a key in the issuer's JWKS whose type fits that algorithm; the signature;
`exp` (required), `nbf` and `iat` with a small leeway; `iss`; `aud`. The user comes from
one claim (default `email`), the groups from another (default `groups`, as Dex sends).
A user named by an email address the issuer says is not verified (`email_verified: false`)
is refused unless `oidc_require_verified_email` is off. Attributes for row filters come
from the claims `oidc_attribute_claims` names; members of `lineage_write_groups` get the
`lineage:write` scope.

Refusals are `Unauthenticated` with a message naming what is wrong; no message repeats
the token.
"""

from __future__ import annotations

import functools
import json
import re
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jwt

from steward.config import Settings
from steward.errors import ConfigError, StewardError, Unauthenticated
from steward.identity.models import LINEAGE_WRITE, SCHEMA_WRITE, Principal

# Three base64url parts; the last is empty for `alg: none`, which is still a JWT to refuse.
_JWT_SHAPE = re.compile(r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$")
# Which JWK key type (`kty`) can verify which algorithm family.
_KEY_TYPES = {"RS": "RSA", "PS": "RSA", "ES": "EC", "Ed": "OKP"}
_LOOPBACK = {"127.0.0.1", "::1", "localhost"}
FETCH_TIMEOUT_SECONDS = 5.0
# An unknown `kid` refetches the JWKS (the issuer may have rotated its key), but at most
# once per this many seconds, so a flood of made-up kids cannot hammer the issuer.
REFETCH_SECONDS = 10.0
_HINT_CHARS = 200


@dataclass(frozen=True)
class OidcSettings:
    """The OIDC part of `Settings`, frozen so that one verifier (and its key cache) serves it."""

    issuer: str
    audience: str
    jwks_url: str | None = None
    jwks_file: Path | None = None
    user_claim: str = "email"
    groups_claim: str = "groups"
    algorithms: tuple[str, ...] = ("RS256",)
    leeway_seconds: float = 30.0
    jwks_cache_seconds: float = 300.0
    admin_groups: frozenset[str] = frozenset()
    require_verified_email: bool = True
    # (attribute name, claim name) pairs, sorted: a tuple, so that the settings stay hashable.
    attribute_claims: tuple[tuple[str, str], ...] = ()
    lineage_write_groups: frozenset[str] = frozenset()
    schema_write_groups: frozenset[str] = frozenset()

    @classmethod
    def from_settings(cls, settings: Settings) -> OidcSettings | None:
        """The OIDC settings, or None when OIDC is off (no issuer, or no JWKS)."""
        if not settings.oidc_enabled or not settings.oidc_issuer:
            return None
        if not settings.oidc_audience:
            raise ConfigError("oidc_audience: must be set when OIDC is on")
        return cls(
            issuer=settings.oidc_issuer,
            audience=settings.oidc_audience,
            jwks_url=settings.oidc_jwks_url,
            jwks_file=settings.oidc_jwks_file,
            user_claim=settings.oidc_user_claim,
            groups_claim=settings.oidc_groups_claim,
            algorithms=tuple(settings.oidc_algorithms),
            leeway_seconds=settings.oidc_leeway_seconds,
            jwks_cache_seconds=settings.oidc_jwks_cache_seconds,
            admin_groups=frozenset(settings.oidc_admin_groups),
            require_verified_email=settings.oidc_require_verified_email,
            attribute_claims=tuple(sorted(settings.oidc_attribute_claims.items())),
            lineage_write_groups=frozenset(settings.lineage_write_groups),
            schema_write_groups=frozenset(settings.schema_write_groups),
        )


def looks_like_jwt(bearer: str) -> bool:
    """True when a bearer value has a JWT's shape (three base64url parts), not an API token's."""
    return _JWT_SHAPE.match(bearer) is not None


def token_hints(token: str) -> dict[str, str | None]:
    """The `kid`, `alg` and `iss` a token claims, unverified and shortened, for the audit log.

    Never the token itself, nor its signature or other claims.
    """
    hints: dict[str, str | None] = {"kid": None, "alg": None, "iss": None}
    try:
        header = jwt.get_unverified_header(token)
        claims = jwt.decode(token, options={"verify_signature": False})
    except (jwt.InvalidTokenError, ValueError):
        return hints
    for name, source in (("kid", header), ("alg", header), ("iss", claims)):
        value = source.get(name)
        if isinstance(value, str):
            hints[name] = value[:_HINT_CHARS]
    return hints


@dataclass(frozen=True)
class SigningKey:
    """One verification key of the issuer: its JWK type, the algorithm it declares, the key."""

    kid: str | None
    kty: str
    alg: str | None
    key: Any


class JwksCache:
    """The issuer's signing keys by `kid`, read from a URL or a file and kept for a while."""

    def __init__(self, settings: OidcSettings, *, refetch_seconds: float = REFETCH_SECONDS):
        self.settings = settings
        self.refetch_seconds = refetch_seconds
        self.fetches = 0
        self._keys: dict[str, SigningKey] = {}
        self._fetched_at: float | None = None
        self._lock = threading.Lock()

    def key(self, kid: str | None) -> SigningKey:
        """The key a token's `kid` names (refetching once if it is new), or `Unauthenticated`."""
        with self._lock:
            now = time.monotonic()
            age = None if self._fetched_at is None else now - self._fetched_at
            if age is None or age >= self.settings.jwks_cache_seconds:
                self._refresh(now)
            elif self._find(kid) is None and age >= self.refetch_seconds:
                self._refresh(now)  # the issuer may have rotated its key since
            found = self._find(kid)
        if found is None:
            if kid is None:
                raise Unauthenticated(
                    "token has no 'kid' header and the issuer's JWKS holds more than one key"
                )
            raise Unauthenticated(f"unknown kid {kid[:_HINT_CHARS]!r}: not in the issuer's JWKS")
        return found

    def _find(self, kid: str | None) -> SigningKey | None:
        if kid is None:
            return next(iter(self._keys.values())) if len(self._keys) == 1 else None
        return self._keys.get(kid)

    def _refresh(self, now: float) -> None:
        try:
            document = self._read()
        except Unauthenticated:
            if not self._keys:
                raise
            # Keep the keys we have while the issuer is unreachable; retry after refetch_seconds.
            self._fetched_at = now - self.settings.jwks_cache_seconds + self.refetch_seconds
            return
        refused = ConfigError if self.settings.jwks_file is not None else Unauthenticated
        self._keys = _parse_jwks(document, self._where(), refused)
        self._fetched_at = now
        self.fetches += 1

    def _where(self) -> str:
        return self.settings.jwks_url or str(self.settings.jwks_file)

    def _read(self) -> Any:
        if self.settings.jwks_file is not None:
            path = self.settings.jwks_file
            try:
                return json.loads(path.read_text(encoding="utf-8"))
            except OSError as exc:
                raise ConfigError(f"oidc_jwks_file: cannot read {path}: {exc.strerror}") from None
            except ValueError as exc:
                raise ConfigError(f"oidc_jwks_file: {path} is not JSON: {exc}") from None
        return _fetch(self.settings.jwks_url or "")


def _fetch(url: str) -> Any:
    import httpx

    try:
        response = httpx.get(url, timeout=FETCH_TIMEOUT_SECONDS, follow_redirects=False)
        response.raise_for_status()
        return response.json()
    except httpx.HTTPError as exc:
        raise Unauthenticated(f"cannot fetch the issuer's keys from {url}: {exc}") from None
    except ValueError:
        raise Unauthenticated(f"the issuer's keys at {url} are not JSON") from None


def _parse_jwks(document: Any, where: str, refused: type[StewardError]) -> dict[str, SigningKey]:
    """Signing keys by kid; keys for encryption or of unknown types are skipped."""
    if not isinstance(document, Mapping) or not isinstance(document.get("keys"), list):
        raise refused(f"JWKS at {where}: expected a JSON object with a 'keys' list")
    keys: dict[str, SigningKey] = {}
    for number, data in enumerate(document["keys"]):
        if not isinstance(data, dict) or data.get("use", "sig") != "sig":
            continue
        if data.get("kty") == "oct":
            continue  # a shared secret is never a verification key here
        try:
            key = jwt.PyJWK(data)
        except (jwt.PyJWKError, jwt.InvalidKeyError, ValueError, TypeError):
            continue
        kid = data.get("kid") if isinstance(data.get("kid"), str) else None
        alg = data.get("alg") if isinstance(data.get("alg"), str) else None
        keys[kid or f"#{number}"] = SigningKey(kid, str(data["kty"]), alg, key.key)
    return keys


class OidcVerifier:
    """Turns a bearer JWT into a `Principal`, or refuses it with `Unauthenticated`."""

    def __init__(self, settings: OidcSettings, *, refetch_seconds: float = REFETCH_SECONDS):
        if settings.jwks_url:
            _check_jwks_url(settings.jwks_url)
        self.settings = settings
        self.jwks = JwksCache(settings, refetch_seconds=refetch_seconds)

    def verify(self, token: str) -> Principal:
        """The principal a JWT proves: signature, algorithm, `iss`, `aud`, `exp`, `nbf` checked."""
        claims = self.claims(token)
        return self.principal(claims)

    def claims(self, token: str) -> dict[str, Any]:
        """The token's claims once every check has passed."""
        try:
            header = jwt.get_unverified_header(token)
        except jwt.InvalidTokenError:
            raise Unauthenticated("token is not a well-formed JWT") from None
        alg = header.get("alg")
        allowed = self.settings.algorithms
        if not isinstance(alg, str) or alg not in allowed:
            shown = alg[:20] if isinstance(alg, str) else alg
            raise Unauthenticated(
                f"token algorithm {shown!r} is not allowed (allowed: {', '.join(allowed)})"
            )
        kid = header.get("kid")
        if kid is not None and not isinstance(kid, str):
            raise Unauthenticated("token 'kid' header is not a string")
        key = self.jwks.key(kid)
        _check_key_fits(key, alg)
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key=key.key,
                algorithms=[alg],
                audience=self.settings.audience,
                issuer=self.settings.issuer,
                leeway=self.settings.leeway_seconds,
                options={"require": ["exp", "iss", "aud"]},
            )
        except jwt.ExpiredSignatureError:
            raise Unauthenticated("token expired") from None
        except jwt.ImmatureSignatureError:
            raise Unauthenticated("token is not yet valid (nbf or iat in the future)") from None
        except jwt.InvalidIssuerError:
            raise Unauthenticated(
                f"wrong issuer: the token is not from {self.settings.issuer}"
            ) from None
        except jwt.InvalidAudienceError:
            raise Unauthenticated(
                f"wrong audience: the token is not for {self.settings.audience}"
            ) from None
        except jwt.MissingRequiredClaimError as exc:
            raise Unauthenticated(f"token has no {exc.claim!r} claim") from None
        except jwt.InvalidSignatureError:
            raise Unauthenticated("token signature does not match the issuer's key") from None
        except jwt.InvalidTokenError as exc:
            raise Unauthenticated(f"invalid token ({type(exc).__name__})") from None
        return claims

    def principal(self, claims: Mapping[str, Any]) -> Principal:
        """The user, groups, scopes and attributes named by the claims of verified `claims`."""
        user_claim = self.settings.user_claim
        user = _claim(claims, user_claim)
        if not isinstance(user, str) or not user.strip():
            raise Unauthenticated(f"token has no {user_claim!r} claim to name the user")
        if self.settings.require_verified_email:
            _check_email_verified(claims, user_claim, user)
        groups = _groups(_claim(claims, self.settings.groups_claim), self.settings.groups_claim)
        is_admin = bool(groups & self.settings.admin_groups)
        scopes = set()
        if groups & self.settings.lineage_write_groups:
            scopes.add(LINEAGE_WRITE)
        if groups & self.settings.schema_write_groups:
            scopes.add(SCHEMA_WRITE)
        return Principal(
            user=user.strip(),
            groups=groups,
            is_admin=is_admin,
            token_id=None,
            scopes=frozenset(scopes),
            attributes=_attributes(claims, self.settings.attribute_claims),
        )


def _check_email_verified(claims: Mapping[str, Any], user_claim: str, user: str) -> None:
    """Refuse a user named by an email address the issuer marks as not verified.

    That is the `email` claim, or any user claim whose value is the token's `email`: an
    issuer that lets people type in an address would otherwise let them name themselves.
    A token without `email_verified` is not refused: many issuers only send it when known.
    """
    named_by_email = user_claim == "email" or (
        isinstance(claims.get("email"), str) and claims["email"].strip() == user.strip()
    )
    verified = claims.get("email_verified")
    # Some issuers (AWS Cognito) send the flag as the string "false".
    not_verified = verified is False or (
        isinstance(verified, str) and verified.strip().lower() == "false"
    )
    if named_by_email and not_verified:
        raise Unauthenticated(
            f"the email in claim {user_claim!r} is not verified by the issuer"
            " (email_verified is false)"
        )


def _attributes(
    claims: Mapping[str, Any], attribute_claims: tuple[tuple[str, str], ...]
) -> tuple[tuple[str, str], ...]:
    """(name, value) for each configured attribute whose claim the token carries."""
    found: list[tuple[str, str]] = []
    for name, claim in attribute_claims:
        value = _claim(claims, claim)
        if value is None:
            continue  # absent: the principal has no such attribute
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise Unauthenticated(
                f"token claim {claim!r} (attribute {name!r}) is not a string or a number"
            )
        found.append((name, str(value)))
    return tuple(found)


def _claim(claims: Mapping[str, Any], name: str) -> Any:
    """A claim by name; a dotted name not present as such walks nested objects.

    Keycloak puts roles in `realm_access.roles`; Auth0-style names are URLs with dots.
    """
    if name in claims:
        return claims[name]
    value: Any = claims
    for part in name.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return None
        value = value[part]
    return value


def _groups(value: Any, name: str) -> frozenset[str]:
    if value is None:
        return frozenset()
    if isinstance(value, str):
        return frozenset([value]) if value else frozenset()
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return frozenset(item for item in value if item)
    raise Unauthenticated(f"token claim {name!r} is not a list of group names")


def _check_key_fits(key: SigningKey, alg: str) -> None:
    # The key's type must match the token's algorithm family, and a key that names its
    # own algorithm only verifies that one.
    if _KEY_TYPES.get(alg[:2]) != key.kty:
        raise Unauthenticated(f"token algorithm {alg} does not fit key {key.kid!r} ({key.kty})")
    if key.alg is not None and key.alg != alg:
        raise Unauthenticated(
            f"token algorithm {alg} does not fit key {key.kid!r} (declared for {key.alg})"
        )


def _check_jwks_url(url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme == "https" or (parts.scheme == "http" and parts.hostname in _LOOPBACK):
        return
    raise ConfigError(
        f"oidc_jwks_url: {url!r} must be https (plain http only on the loopback interface)"
    )


@functools.lru_cache(maxsize=16)
def _verifier(settings: OidcSettings) -> OidcVerifier:
    return OidcVerifier(settings)


def verifier_for(settings: Settings) -> OidcVerifier | None:
    """The process's verifier for these settings (one JWKS cache per issuer), or None if off."""
    oidc = OidcSettings.from_settings(settings)
    return None if oidc is None else _verifier(oidc)
