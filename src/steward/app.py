"""`Steward`: the one object that wires settings to the store; api, web and cli each build one."""

from __future__ import annotations

from typing import TYPE_CHECKING

from steward.audit.writer import AuditWriter
from steward.config import Settings, load_settings
from steward.engines.tables import TablePlans
from steward.errors import NotFound
from steward.lineage.raw_log import Appender
from steward.policy.cache import QueryCache
from steward.store import Store, open_store
from steward.store.private import make_private_dir

if TYPE_CHECKING:
    from collections.abc import Mapping
    from concurrent.futures import Executor

    from steward.catalog.models import Source
    from steward.engines.base import Engine, TableData


class Steward:
    """An installation of Steward: its settings, its store, its engine and table plans."""

    def __init__(self, settings: Settings | None = None, *, engine: Engine | None = None) -> None:
        """`engine`, when given, replaces the configured one (embedding Steward, tests)."""
        self.settings = settings or load_settings()
        self.store: Store = open_store(self.settings.sqlalchemy_url)
        self.tables = TablePlans(self.source)
        self._engine: Engine | None = engine
        self._native: dict[str, Engine] = {}
        self._parse_pool: Executor | None = None
        # The audit log's group-commit writer for records that are not part of another
        # change (queries, refusals): one per process.
        self.audit = AuditWriter(self.store)
        # Ingest's group commit: concurrent requests' raw rows and audit records share a
        # transaction (one per process).
        self.lineage_appender = Appender(self.store)
        # Policies, table facts and decisions the query path worked out, keyed by what
        # they were derived from (see `policy.cache`).
        self.query_cache = QueryCache()

    @property
    def engine(self) -> Engine:
        """The configured engine (`engine` setting), with the query limits; made on first use."""
        if self._engine is None:
            from steward.engines.registry import open_engine

            self._engine = open_engine(self.settings)
        return self._engine

    def engine_for(self, tables: Mapping[str, TableData]) -> Engine:
        """The engine that reads `tables`: a database source's own (PostgreSQL) for its
        tables, else the configured engine."""
        from steward.engines.registry import engine_class, native_backend

        backend = native_backend(tables)
        if backend is None:
            return self.engine
        if backend not in self._native:
            self._native[backend] = engine_class(backend).from_settings(self.settings)
        return self._native[backend]

    def parse_pool(self) -> Executor | None:
        """The processes that decode and validate lineage bodies beside the writer, when a
        normaliser worker builds the graph (`lineage_parse_processes`); None: parse inline."""
        processes = self.settings.lineage_parse_processes
        if self.settings.lineage_normaliser != "worker" or processes == 0:
            return None
        if self._parse_pool is None:
            import multiprocessing
            from concurrent.futures import ProcessPoolExecutor

            # Spawned, not forked: the server's threads and connections stay its own.
            context = multiprocessing.get_context("spawn")
            self._parse_pool = ProcessPoolExecutor(processes, mp_context=context)
        return self._parse_pool

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
        """Release the store's connections and the engines' databases and sessions."""
        for engine in [self._engine, *self._native.values()]:
            if engine is not None:
                engine.close()
        self._native.clear()
        if self._parse_pool is not None:
            self._parse_pool.shutdown(wait=False, cancel_futures=True)
            self._parse_pool = None
        self._engine = None
        self.tables.forget()
        self.query_cache.clear()
        self.audit.close()
        self.lineage_appender.close()
        self.store.dispose()
