"""Steward: self-hosted data governance and lineage for a lakehouse."""

from __future__ import annotations

__version__ = "0.1.0"
