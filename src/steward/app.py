"""`Steward`: the one object that wires settings to the store; api, web and cli each build one."""

from __future__ import annotations

from steward.config import Settings, load_settings
from steward.store import Store, open_store


class Steward:
    """An installation of Steward: its settings and its store."""

    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings or load_settings()
        self.store: Store = open_store(self.settings.sqlalchemy_url)

    def upgrade(self) -> None:
        """Bring the store's schema up to date (idempotent)."""
        if self.settings.is_embedded:
            self.settings.home.mkdir(parents=True, exist_ok=True)
        self.store.upgrade()

    def close(self) -> None:
        """Release the store's connections."""
        self.store.dispose()
