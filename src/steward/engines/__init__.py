"""Engines: where SQL runs (DuckDB, Spark, PostgreSQL) behind one interface (`Engine`)."""

from steward.engines.base import Engine, Session, TableData

__all__ = ["Engine", "Session", "TableData"]
