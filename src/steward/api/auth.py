"""Bearer-token authentication: every route but /health depends on `principal`."""

from __future__ import annotations

from fastapi import Request
from starlette.concurrency import run_in_threadpool

from steward.app import Steward
from steward.audit.log import record_failed_token
from steward.errors import Unauthenticated
from steward.identity.models import Principal
from steward.identity.oidc import looks_like_jwt, token_hints, verifier_for
from steward.identity.tokens import authenticate, claimed_token_id, remembered


def steward_of(request: Request) -> Steward:
    """The `Steward` this app serves."""
    steward: Steward = request.app.state.steward
    return steward


async def principal(request: Request) -> Principal:
    """The caller, proven by `Authorization: Bearer <token>`, or 401."""
    header = request.headers.get("authorization")
    if not header:
        raise Unauthenticated("missing Authorization: Bearer <token> header")
    scheme, _, secret = header.partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        raise Unauthenticated("Authorization header must be 'Bearer <token>'")
    bearer = secret.strip()
    steward = steward_of(request)
    if looks_like_jwt(bearer):
        caller = await _jwt_principal(request, steward, bearer)
    else:
        caller = await _token_principal(request, steward, bearer)
    request.state.principal = caller
    return caller


async def _token_principal(request: Request, steward: Steward, secret: str) -> Principal:
    store = steward.store
    # A token seen a moment ago is answered here; only a lookup goes to a worker thread.
    caller = remembered(store, secret)
    if caller is None:
        try:
            caller = await run_in_threadpool(authenticate, store, secret)
        except Unauthenticated as exc:
            # Audited without the secret: the id it claims, why it failed, where it was sent.
            await run_in_threadpool(
                record_failed_token,
                store,
                token_id=claimed_token_id(secret),
                reason=exc.message,
                details=_where(request),
            )
            raise
    return caller


async def _jwt_principal(request: Request, steward: Steward, token: str) -> Principal:
    # Verification may fetch the issuer's JWKS, so it runs in a worker thread.
    try:
        verifier = verifier_for(steward.settings)
        if verifier is None:
            raise Unauthenticated("OIDC is not configured: this server takes API tokens only")
        return await run_in_threadpool(verifier.verify, token)
    except Unauthenticated as exc:
        # Audited without the token: the kid, alg and issuer it claims, and why it failed.
        await run_in_threadpool(
            record_failed_token,
            steward.store,
            token_id=None,
            reason=exc.message,
            details={**_where(request), "jwt": token_hints(token)},
        )
        raise


def _where(request: Request) -> dict[str, str | None]:
    client = request.client.host if request.client else None
    return {"method": request.method, "path": request.url.path, "client": client}
