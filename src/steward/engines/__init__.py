"""Engines: where SQL runs (the embedded DuckDB today), behind one small interface."""
