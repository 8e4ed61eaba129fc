"""One exception hierarchy: each error maps to one HTTP status and one CLI exit code."""

from __future__ import annotations


class StewardError(Exception):
    """Root of every error Steward raises on purpose."""

    http_status = 500
    exit_code = 1

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidInput(StewardError):
    """Input that Steward cannot accept; the message names the field."""

    http_status = 400
    exit_code = 2


class InvalidEvent(InvalidInput):
    """An OpenLineage event that does not follow the spec."""


class InvalidNodeId(InvalidInput):
    """A lineage node id that cannot be parsed."""


class NotFound(StewardError):
    """A named thing that does not exist."""

    http_status = 404
    exit_code = 4


class Unauthenticated(StewardError):
    """No credentials, or credentials that are not valid."""

    http_status = 401
    exit_code = 5


class Forbidden(StewardError):
    """Valid credentials without the right to do this."""

    http_status = 403
    exit_code = 6


class PolicyDenied(Forbidden):
    """The policy refuses a table (or the whole query) to the caller; `table` names it."""

    def __init__(self, message: str, *, table: str | None = None, rule: str | None = None):
        super().__init__(message)
        self.table = table
        self.rule = rule


class StoreBusy(StewardError):
    """A write the store could not take now (locked, or a concurrent writer won); retry it."""

    http_status = 503
    exit_code = 7


class ConfigError(StewardError):
    """Settings that cannot be used."""

    http_status = 500
    exit_code = 3


class SourceError(StewardError):
    """A catalog source that cannot be reached or read; the message names the source."""

    http_status = 502
    exit_code = 8


class SamplingUnsupported(SourceError):
    """A source that lists tables but cannot read their rows (dbt artifacts)."""


class ChecksCouldNotRun(StewardError):
    """Quality checks that could not run (an engine or source error, a bad query)."""

    http_status = 502
    exit_code = 3
