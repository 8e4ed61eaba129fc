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


class AmbiguousName(InvalidNodeId):
    """A name that reads as several datasets or jobs; the message lists their node ids."""


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


class Conflict(StewardError):
    """A write that contradicts what is stored (two things claiming one identity); the
    message names the identity. Sending it again gives the same answer."""

    http_status = 409
    exit_code = 9


class StoreBusy(StewardError):
    """A write the store could not take now (locked, or a concurrent writer won); retry it."""

    http_status = 503
    exit_code = 7


class TryLater(StoreBusy):
    """Steward cannot serve this now (ingest backlog, a consistent read that timed out);
    nothing was written. Answered 503 with `Retry-After: retry_after`."""

    def __init__(self, message: str, *, retry_after: int = 1) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class WriteConflict(Conflict, StoreBusy):
    """A write the store refused on a unique key or a reference; the message names it.

    Nothing was written. A writer that may have lost a race to a concurrent one of the
    same row (an OpenLineage ingest) tries again itself; anyone else gets a 409.
    """

    http_status = 409
    exit_code = 9


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


class RegistryError(StewardError):
    """A schema registry error, with Confluent's `error_code` (40401 ...) and its HTTP status.

    The status is the code's first three digits (40401 -> 404); the codes below 1000
    (409 incompatible, 422) are the status itself, as Confluent sends them.
    """

    SUBJECT_NOT_FOUND = 40401
    VERSION_NOT_FOUND = 40402
    SCHEMA_NOT_FOUND = 40403
    SUBJECT_SOFT_DELETED = 40404
    SUBJECT_NOT_SOFT_DELETED = 40405
    VERSION_SOFT_DELETED = 40406
    VERSION_NOT_SOFT_DELETED = 40407
    SUBJECT_COMPATIBILITY_NOT_CONFIGURED = 40408
    SUBJECT_MODE_NOT_CONFIGURED = 40409
    INCOMPATIBLE_SCHEMA = 409
    INVALID_SCHEMA = 42201
    INVALID_VERSION = 42202
    INVALID_COMPATIBILITY_LEVEL = 42203
    INVALID_MODE = 42204
    OPERATION_NOT_PERMITTED = 42205
    REFERENCE_EXISTS = 42206

    def __init__(self, error_code: int, message: str) -> None:
        super().__init__(message)
        self.error_code = error_code
        self.http_status = error_code if error_code < 1000 else int(str(error_code)[:3])
