"""`/audit` (admins): who queried what, PII access, denials, top datasets, the chain's
verify status, and `/audit/records.csv`, the filtered records as CSV.

The figures come from `steward.audit.dashboard` (SQL aggregates); the verify status from
`steward.audit.verify.verify`, the function behind `steward audit verify`.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from starlette.responses import Response, StreamingResponse

from steward.audit import dashboard
from steward.audit.checkpoints import Signer
from steward.audit.dashboard import DashboardFilter
from steward.audit.log import head
from steward.audit.models import Verification
from steward.audit.reports import csv_cell, plain_row
from steward.audit.rollup import refresh
from steward.audit.verify import verify
from steward.catalog.views import pii_columns
from steward.errors import Forbidden, InvalidInput
from steward.identity.sessions import WebSession
from steward.web.audit_chart import chart
from steward.web.auth import signed_in, steward_of
from steward.web.render import SECURITY_HEADERS, page

router = APIRouter(include_in_schema=False)

DEFAULT_DAYS = 30
# Verifying walks every record (about 5 s a million here): the page does it on opening
# while the log is at most this long, else when asked (`verify=yes`).
VERIFY_ON_OPEN = 200_000

User = Annotated[str, Query(max_length=500)]
Dataset = Annotated[str, Query(max_length=1000)]
Day = Annotated[str, Query(max_length=40)]


def _admin(session: WebSession) -> None:
    if not session.principal.is_admin:
        raise Forbidden(
            f"the audit dashboard is for admins; {session.principal.user} is not an admin"
        )


def _day(name: str, value: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidInput(f"{name}: {value!r} is not a date (YYYY-MM-DD)") from None


def _filter(user: str, dataset: str, since: str, until: str) -> DashboardFilter:
    """The filter the form describes: `since` and `until` are days, both included."""
    start, end = _day("since", since), _day("until", until)
    if start and end and end < start:
        raise InvalidInput("until: the day is before since")
    return DashboardFilter(
        user=user or None,
        dataset=dataset or None,
        since=start,
        until=end + timedelta(days=1) if end else None,
    )


@router.get("/audit")
def get_audit(
    request: Request,
    session: Annotated[WebSession, Depends(signed_in)],
    user: User = "",
    dataset: Dataset = "",
    since: Day = "",
    until: Day = "",
    verify_now: Annotated[str, Query(alias="verify", pattern="^(yes|)$")] = "",
) -> Response:
    """The dashboard for the chosen user, dataset and days (by default the last 30)."""
    _admin(session)
    if not since and not until:
        since = (datetime.now(UTC).date() - timedelta(days=DEFAULT_DAYS - 1)).isoformat()
    where = _filter(user, dataset, since, until)
    steward = steward_of(request)
    refresh(steward.store)
    with steward.store.read() as conn:
        daily = dashboard.queries_per_day(conn, where)
        context: dict[str, Any] = {
            "totals": dashboard.totals(conn, where),
            "daily": daily,
            "chart": chart(daily),
            "pii": dashboard.pii_reads(conn, where, pii_columns(conn)),
            "denials": dashboard.denials(conn, where),
            "top": dashboard.top_datasets(conn, where),
            "users": dashboard.users(conn),
            "datasets": dashboard.datasets(conn),
        }
        head_seq, _ = head(conn)
    chosen = {"user": user, "dataset": dataset, "since": since, "until": until}
    query = urlencode({k: v for k, v in chosen.items() if v})

    def link(**change: str) -> str:
        return "/audit?" + urlencode({k: v for k, v in {**chosen, **change}.items() if v})

    verification: Verification | None = None
    if verify_now or head_seq <= VERIFY_ON_OPEN:
        home = steward.settings.home
        verification = verify(steward.store, Signer.load(home), home)
    context.update(
        chosen=chosen,
        csv_link="/audit/records.csv" + (f"?{query}" if query else ""),
        verify_link=link(verify="yes"),
        link=link,
        verification=verification,
        head_seq=head_seq,
    )
    return page(request, "audit.html", context, session=session, title="Audit")


@router.get("/audit/records.csv")
def get_records_csv(
    request: Request,
    session: Annotated[WebSession, Depends(signed_in)],
    user: User = "",
    dataset: Dataset = "",
    since: Day = "",
    until: Day = "",
) -> Response:
    """The records the dashboard's filter matches, every action, oldest first, as CSV."""
    _admin(session)
    where = _filter(user, dataset, since, until)
    store = steward_of(request).store

    def lines() -> Iterator[str]:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(dashboard.EXPORT_COLUMNS)
        with store.read() as conn:
            for number, row in enumerate(dashboard.record_rows(conn, where.records()), start=1):
                writer.writerow(csv_cell(v) for v in plain_row(row))
                if number % 1000 == 0:
                    yield out.getvalue()
                    out.seek(0)
                    out.truncate()
        yield out.getvalue()

    headers = {
        **SECURITY_HEADERS,
        "Content-Disposition": 'attachment; filename="steward-audit.csv"',
    }
    return StreamingResponse(lines(), media_type="text/csv; charset=utf-8", headers=headers)
