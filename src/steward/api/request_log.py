"""The request log: one structured line per request on the `steward.requests` logger.

A line holds the method, the path (never the query string, where a secret may travel),
the status, the duration, who asked (user and token id, never the token or a cookie) and
the request id (the caller's `X-Request-ID` when it is a plain short id, else a new one;
sent back in the response's `X-Request-ID`). See docs/security.md.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time
import uuid
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from starlette.types import ASGIApp, Message, Receive, Scope, Send

    from steward.config import Settings

log = logging.getLogger("steward.requests")
REQUEST_ID_HEADER = b"x-request-id"
# A caller's request id is kept only when it cannot forge a log line or smuggle data.
_PLAIN_ID = re.compile(rb"[A-Za-z0-9._:-]{1,64}")
# Longer paths are cut: a log line stays one readable line.
MAX_PATH = 512
LogFormat = Literal["text", "json"]


class RequestLog:
    """ASGI middleware writing one line per HTTP request once its response is sent."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        request_id = _request_id(scope)
        status = 500  # what the client gets when the app fails before answering

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = list(message.get("headers", []))
                headers.append((REQUEST_ID_HEADER, request_id.encode()))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            if log.isEnabledFor(logging.INFO):
                _log_request(scope, status, time.perf_counter() - started, request_id)


def _request_id(scope: Scope) -> str:
    for name, value in scope.get("headers", []):
        if name == REQUEST_ID_HEADER and _PLAIN_ID.fullmatch(value):
            return str(value.decode("ascii"))
    return uuid.uuid4().hex[:16]


def _log_request(scope: Scope, status: int, seconds: float, request_id: str) -> None:
    caller = scope.get("state", {}).get("principal")
    path = str(scope.get("path", ""))
    fields: dict[str, Any] = {
        "request_id": request_id,
        "method": scope.get("method", ""),
        "path": path if len(path) <= MAX_PATH else path[:MAX_PATH] + "...",
        "status": status,
        "duration_ms": round(seconds * 1000, 1),
        "user": getattr(caller, "user", None),
        "token_id": getattr(caller, "token_id", None),
    }
    level = logging.ERROR if status >= 500 else logging.INFO
    log.log(level, "request", extra={"fields": fields})


class LineFormatter(logging.Formatter):
    """Steward's log lines: `text` (time, level, message, key=value fields) or `json`
    (one object per line); fields a record carries in `extra={"fields": ...}`."""

    def __init__(self, fmt: LogFormat) -> None:
        super().__init__()
        self.fmt = fmt

    def format(self, record: logging.LogRecord) -> str:
        when = datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds")
        fields: dict[str, Any] = getattr(record, "fields", {})
        message = record.getMessage()
        if record.exc_info:
            message += "\n" + self.formatException(record.exc_info)
        if self.fmt == "json":
            line = {"time": when, "level": record.levelname.lower(), "logger": record.name}
            return json.dumps({**line, "message": message, **fields}, default=str)
        shown = " ".join(f"{key}={_text_value(value)}" for key, value in fields.items())
        return f"{when} {record.levelname.lower()} {record.name}: {message} {shown}".rstrip()


def _text_value(value: Any) -> str:
    """A value for `key=value`: bare when plain, else JSON-quoted (no line breaks, no
    spaces that would make a field look like two)."""
    if value is None:
        return "-"
    text = str(value)
    if text and re.fullmatch(r"[\w./:@+-]+", text):
        return text
    return json.dumps(text)


def configure_logging(settings: Settings) -> None:
    """Send Steward's logs (requests included) to stderr at `log_level`, as `log_format`;
    `request_log = false` leaves the request lines out. Run once per serving process."""
    root = logging.getLogger("steward")
    for handler in list(root.handlers):
        if getattr(handler, "steward_owned", False):
            root.removeHandler(handler)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(LineFormatter(settings.log_format))
    handler.steward_owned = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(settings.log_level.upper())
    root.propagate = False
    log.disabled = not settings.request_log
