"""Typed run-level dataset facets: data quality assertions and metrics, I/O statistics.

These measure one run's data (dbt-ol puts its test results in an input dataset's
`inputFacets.dataQualityAssertions`; Spark its row and byte counts in
`inputStatistics`/`outputStatistics`), so they are kept per run (`dataset_run_facets`), not only
as the dataset's latest facet. Only the fields Steward reads are typed, and each accepts
null as producers send it for absent values.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator


class _Facet(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)


class _Facets(_Facet):
    @model_validator(mode="before")
    @classmethod
    def _skip_deleted(cls, data: Any) -> Any:
        # `{"_deleted": true}` removes a facet; it has none of the facet's fields to check.
        if isinstance(data, dict):
            return {k: v for k, v in data.items() if not _deleted(v)}
        return data


def _deleted(facet: Any) -> bool:
    return isinstance(facet, dict) and facet.get("_deleted") is True


class Assertion(_Facet):
    assertion: str = Field(min_length=1, max_length=4096)
    success: bool
    column: str | None = None
    severity: str | None = None
    name: str | None = None
    description: str | None = None
    expected: str | None = None
    actual: str | None = None


class DataQualityAssertionsFacet(_Facet):
    assertions: list[Assertion]


class ColumnMetrics(_Facet):
    nullCount: int | None = None
    distinctCount: int | None = None
    sum: float | None = None
    count: float | None = None
    min: float | None = None
    max: float | None = None
    quantiles: dict[str, float] | None = None


class DataQualityMetricsFacet(_Facet):
    rowCount: int | None = None
    bytes: int | None = None
    fileCount: int | None = None
    columnMetrics: dict[str, ColumnMetrics] | None = None


class StatisticsFacet(_Facet):
    rowCount: int | None = None
    size: int | None = None
    fileCount: int | None = None


class InputFacets(_Facets):
    """An input dataset's `inputFacets`, typed where Steward reads them."""

    dataQualityAssertions: DataQualityAssertionsFacet | None = None
    dataQualityMetrics: DataQualityMetricsFacet | None = None
    inputStatistics: StatisticsFacet | None = None


class OutputFacets(_Facets):
    """An output dataset's `outputFacets`, typed where Steward reads them."""

    outputStatistics: StatisticsFacet | None = None
