"""The HTTP API: FastAPI routers, one per domain, thin over the domain functions."""

from __future__ import annotations

from steward.api.server import create_app

__all__ = ["create_app"]
