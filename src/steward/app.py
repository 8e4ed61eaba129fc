"""`Steward`: the one object that wires settings to the store; api, web and cli each build one."""

from __future__ import annotations

from typing import TYPE_CHECKING

from steward.config import Settings, load_settings
from steward.errors import NotFound
from steward.store import Store, open_store
from steward.store.private import make_private_dir

if TYPE_CHECKING:
    from steward.catalog.models import Source
    from steward.engines.duckdb import Engine


class Steward:
    """An installation of Steward: its settings and its store."""

    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings or load_settings()
        self.store: Store = open_store(self.settings.sqlalchemy_url)
        self._engine: Engine | None = None

    @property
    def engine(self) -> Engine:
        """The engine governed queries run on, with the configured limits (made on first use)."""
        if self._engine is None:
            from steward.engines.duckdb import Engine, Limits

            self._engine = Engine(
                Limits(
                    timeout_seconds=self.settings.query_timeout_seconds,
                    memory_limit=self.settings.query_memory_limit,
                    threads=self.settings.query_threads,
                    max_result_bytes=self.settings.query_max_result_bytes,
                )
            )
        return self._engine

    def upgrade(self) -> None:
        """Bring the store's schema up to date (idempotent)."""
        if self.settings.is_embedded:
            make_private_dir(self.settings.home)
        self.store.upgrade()

    def source_names(self) -> list[str]:
        """The catalog's sources: those configured, and the embedded `lake`."""
        from steward.connectors import source_configs

        return sorted(source_configs(self.settings.sources))

    def source(self, name: str) -> Source:
        """The catalog source called `name`, opened."""
        from steward.connectors import open_source, source_configs

        configs = source_configs(self.settings.sources)
        if name not in configs:
            raise NotFound(
                f"source: no source called {name!r}; configured: {', '.join(sorted(configs))}"
            )
        return open_source(name, configs[name], home=self.settings.home)

    def close(self) -> None:
        """Release the store's connections and the engine's databases."""
        if self._engine is not None:
            self._engine.close()
        self.store.dispose()
