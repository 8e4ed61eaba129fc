"""Bearer-token authentication: every route but /health depends on `principal`."""

from __future__ import annotations

from fastapi import Request
from starlette.concurrency import run_in_threadpool

from steward.app import Steward
from steward.audit.log import record_failed_token
from steward.errors import Unauthenticated
from steward.identity.models import Principal
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
    store = steward_of(request).store
    # A token seen a moment ago is answered here; only a lookup goes to a worker thread.
    caller = remembered(store, secret.strip())
    if caller is None:
        try:
            caller = await run_in_threadpool(authenticate, store, secret.strip())
        except Unauthenticated as exc:
            # Audited without the secret: the id it claims, why it failed, where it was sent.
            client = request.client.host if request.client else None
            await run_in_threadpool(
                record_failed_token,
                store,
                token_id=claimed_token_id(secret.strip()),
                reason=exc.message,
                details={"method": request.method, "path": request.url.path, "client": client},
            )
            raise
    request.state.principal = caller
    return caller
