"""The store: SQLAlchemy Core tables, migrations and transactions."""

from __future__ import annotations

from steward.store.database import Store, open_store

__all__ = ["Store", "open_store"]
