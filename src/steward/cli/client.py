"""Talking to a running Steward server: `--url`/`STEWARD_URL` and `--token`/`STEWARD_TOKEN`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from steward.errors import (
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    StewardError,
    StoreBusy,
    Unauthenticated,
)

UrlOption = Annotated[
    str, typer.Option("--url", envvar="STEWARD_URL", help="The Steward server to talk to.")
]
TokenOption = Annotated[
    str | None,
    typer.Option("--token", envvar="STEWARD_TOKEN", help="An API token (steward token create)."),
]
DEFAULT_URL = "http://127.0.0.1:5000"
# For commands that read the local store unless told a server: no default URL.
RemoteUrlOption = Annotated[
    str | None,
    typer.Option(
        "--url",
        envvar="STEWARD_URL",
        help="Ask this Steward server's API instead of the local store (needs --token).",
    ),
]

if TYPE_CHECKING:
    import httpx


class ServerError(StewardError):
    """The server refused a request or could not be reached."""

    exit_code = 1


# The server's refusals become the same errors, and so the same exit codes, as local ones.
_BY_STATUS: dict[int, type[StewardError]] = {
    400: InvalidInput,
    401: Unauthenticated,
    403: Forbidden,
    404: NotFound,
    409: Conflict,
    422: InvalidInput,
    503: StoreBusy,
}


class Client:
    """A small HTTP client for Steward's API that turns refusals into errors."""

    def __init__(self, url: str, token: str | None, timeout: float = 60.0) -> None:
        if not token:
            raise Unauthenticated("no token: pass --token or set STEWARD_TOKEN")
        # Imported here: httpx costs the start-up of every command, most of which never
        # talk to a server.
        import httpx

        self.http: httpx.Client = httpx.Client(
            base_url=url.rstrip("/"),
            headers={"Authorization": f"Bearer {token}"},
            timeout=timeout,
        )

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        """Send a request; the JSON answer, or a `ServerError` carrying the server's message."""
        import httpx

        try:
            response = self.http.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise ServerError(f"cannot reach {self.http.base_url}: {exc}") from None
        if response.status_code >= 400:
            try:
                message = response.json().get("error", response.text)
            except ValueError:
                message = response.text
            error = _BY_STATUS.get(response.status_code, ServerError)
            raise error(f"{response.status_code}: {message}")
        return response.json()

    def close(self) -> None:
        """Close the connection pool."""
        self.http.close()


def remote(url: str | None, token: str | None) -> Client | None:
    """A client for the server at `url`, or None when the command reads the local store."""
    if not url:
        return None
    return Client(url, token)
