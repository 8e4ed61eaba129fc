"""One limit on the size of every request body, enforced before routing and authentication.

A pure ASGI middleware: a `Content-Length` above the limit is answered 413 at once, before
any of the body is read; a body without one (chunked) is counted as the route reads it, and
the request is answered 413 as soon as the count passes the limit. Nothing here buffers the
body, so an unauthenticated client cannot make the server hold more than one chunk of it.
"""

from __future__ import annotations

import contextlib

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from steward.api.responses import error


class BodyTooLarge(Exception):
    """Raised into the app by `receive` once a streamed body passes the limit."""


class BodyLimit:
    """Refuses a request body larger than `max_bytes` with 413, without reading it."""

    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is not None and declared > self.max_bytes:
            await self._refuse(scope, receive, send)
            return
        received = 0
        exceeded = False
        started = False

        async def counted_receive() -> Message:
            nonlocal received, exceeded
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    exceeded = True
                    raise BodyTooLarge
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            # Once the body passed the limit, whatever the app makes of the interruption
            # (an error page, a parse failure) is replaced by the one 413 below.
            if exceeded and not started:
                return
            started = started or message["type"] == "http.response.start"
            await send(message)

        with contextlib.suppress(BodyTooLarge):
            await self.app(scope, counted_receive, guarded_send)
        if exceeded and not started:
            await self._refuse(scope, receive, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        # `Connection: close` makes the server drop the connection after the answer instead
        # of reading the rest of the body to reach the next request.
        response = error(
            413,
            f"body: larger than the {self.max_bytes} byte limit",
            headers={"Connection": "close"},
        )
        await response(scope, receive, send)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            text = value.decode("latin-1").strip()
            # The server already refused a malformed Content-Length; be safe anyway.
            return int(text) if text.isdigit() else None
    return None
