"""`steward audit`: log, verify, report, export, checkpoint and archive, on the local store."""

from __future__ import annotations

import sys
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any

import orjson
import typer
from rich.console import Console
from rich.table import Table

from steward.cli.client import RemoteUrlOption, TokenOption, remote
from steward.cli.context import steward_from_env
from steward.errors import InvalidInput

app = typer.Typer(help="The tamper-evident audit log.", no_args_is_help=True)
err = Console(stderr=True)

Since = Annotated[str | None, typer.Option(help="From this ISO 8601 time (UTC).")]
Until = Annotated[str | None, typer.Option(help="Before this ISO 8601 time (UTC).")]
Format = Annotated[str, typer.Option("--format", help="table, csv or json.")]
LogFormat = Annotated[
    str,
    typer.Option(
        "--format",
        help="table, csv, json (one document: records and paging) or jsonl (a record a line).",
    ),
]
LOG_FORMATS = ("table", "csv", "json", "jsonl")
REPORT_FORMATS = ("table", "csv", "json")


def _check_format(fmt: str, known: tuple[str, ...]) -> None:
    if fmt not in known:
        raise InvalidInput(f"--format: {fmt!r} is not one of {', '.join(known)}")


def _print_table(title: str, columns: list[str], rows: list[list[object]]) -> None:
    table = Table(*columns, title=title)
    for row in rows:
        table.add_row(*("" if v is None else str(v) for v in row))
    Console().print(table)


@app.command("log")
def log(
    user: Annotated[str | None, typer.Option(help="Only this user's records.")] = None,
    dataset: Annotated[str | None, typer.Option(help="Only records touching this dataset.")] = None,
    column: Annotated[str | None, typer.Option(help="Only records reading this column.")] = None,
    action: Annotated[str | None, typer.Option(help="An action, or a prefix like token.*")] = None,
    decision: Annotated[str | None, typer.Option(help="allowed, denied, masked ...")] = None,
    since: Since = None,
    until: Until = None,
    limit: Annotated[int, typer.Option(min=1, max=100_000)] = 50,
    offset: Annotated[int, typer.Option(min=0)] = 0,
    format: LogFormat = "table",
    url: RemoteUrlOption = None,
    token: TokenOption = None,
) -> None:
    """Records, newest first, filtered like GET /api/v1/audit (which `--url` asks)."""
    from steward.audit.log import AuditFilter, list_records

    _check_format(format, LOG_FORMATS)
    filters = {
        "user": user,
        "dataset": dataset,
        "column": column,
        "action": action,
        "decision": decision,
        "since": since,
        "until": until,
    }
    where = AuditFilter.parse(**filters)
    client = remote(url, token)
    if client is not None:
        params = {k: v for k, v in filters.items() if v is not None}
        page = client.request("GET", "/api/v1/audit", params=params | _page(limit, offset))
        records: list[dict[str, Any]] = page["records"]
        next_offset = page["next_offset"]
    else:
        steward = steward_from_env()
        steward.upgrade()
        with steward.store.read() as conn:
            found = list_records(conn, where, limit=limit + 1, offset=offset)
        records = [r.to_json() for r in found[:limit]]
        next_offset = offset + limit if len(found) > limit else None
    if format == "json":
        document = {
            "records": records,
            "limit": limit,
            "offset": offset,
            "next_offset": next_offset,
        }
        sys.stdout.write(orjson.dumps(document, option=orjson.OPT_INDENT_2).decode() + "\n")
        return
    if format == "jsonl":
        for item in records:
            sys.stdout.write(orjson.dumps(item).decode() + "\n")
        return
    columns = ["seq", "time", "user", "action", "dataset", "columns", "decision", "policy"]
    rows: list[list[object]] = [
        [
            r["seq"],
            r["time"][:19],
            r["actor"]["user"],
            r["action"],
            r["resource"]["dataset"],
            ",".join(r["resource"]["columns"]),
            r["decision"],
            r["policy"],
        ]
        for r in records
    ]
    if format == "csv":
        from steward.audit.reports import Report

        sys.stdout.write(Report("log", tuple(columns), [tuple(r) for r in rows]).to_csv())
        return
    _print_table("Audit log", columns, rows)


def _page(limit: int, offset: int) -> dict[str, int]:
    """The API's paging parameters: it serves at most 1000 records a request."""
    if limit > 1000:
        raise InvalidInput(f"--limit: a server gives at most 1000 records a request, not {limit}")
    return {"limit": limit, "offset": offset}


@app.command("verify")
def verify(
    archive: Annotated[bool, typer.Option("--archive", help="Walk archive segments too.")] = False,
    checkpoints: Annotated[
        list[Path] | None,
        typer.Option("--checkpoints", help="Exported checkpoints (JSON lines) to check too."),
    ] = None,
    json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
    evidence: Annotated[
        Path | None,
        typer.Option(
            "--evidence", help="Check an evidence report (json) offline instead of the log."
        ),
    ] = None,
    public_key: Annotated[
        Path | None,
        typer.Option("--public-key", help="With --evidence: the PEM public key to trust."),
    ] = None,
    fingerprint: Annotated[
        str | None,
        typer.Option(
            "--fingerprint",
            help="With --evidence: trust the report's own key if its SHA-256 is this.",
        ),
    ] = None,
    url: RemoteUrlOption = None,
    token: TokenOption = None,
) -> None:
    """Walk the chain and the checkpoints: exit 0 when intact, 1 naming the first bad record.

    With --evidence FILE, check an evidence report offline, with no store or home: its
    records against their hashes, links and signed checkpoints, and its statements
    against the records they cite.
    """
    from steward.audit.checkpoints import Signer, read_exported
    from steward.audit.verify import verify as verify_log

    if evidence is not None:
        _verify_evidence(evidence, public_key, fingerprint, json=json)
        return
    if public_key is not None or fingerprint is not None:
        raise InvalidInput("--public-key and --fingerprint go with --evidence FILE")
    client = remote(url, token)
    if client is not None:
        if checkpoints:
            raise InvalidInput(
                "--checkpoints: exported checkpoints are checked against the local store"
                " only; drop --url, or verify them where the store is"
            )
        shown = client.request("GET", "/api/v1/audit/verify", params={"archive": archive})
    else:
        steward = steward_from_env()
        steward.upgrade()
        home = steward.settings.home
        extra = []
        for path in checkpoints or []:
            try:
                lines = path.read_bytes().splitlines()
            except OSError as exc:
                raise InvalidInput(f"--checkpoints: cannot read {path} ({exc.strerror})") from None
            extra.extend(read_exported(lines, where=str(path)))
        result = verify_log(
            steward.store, Signer.load(home), home, archive=archive, checkpoints=extra
        )
        shown = result.to_json()
    if json:
        print(orjson.dumps(shown).decode())
    elif shown["ok"]:
        print(f"ok: {shown['message']}")
    else:
        print(f"seq {shown['first_bad_seq']}: {shown['problem']}: {shown['message']}")
    raise typer.Exit(0 if shown["ok"] else 1)


def _verify_evidence(
    path: Path, public_key: Path | None, fingerprint: str | None, *, json: bool
) -> None:
    """The offline check of an evidence report: reads only the file and the key."""
    from steward.audit.proof import ProofFails
    from steward.governance.evidence_verify import read_report, verify_evidence

    try:
        text = path.read_bytes()
        pem = public_key.read_text(encoding="utf-8") if public_key is not None else None
    except OSError as exc:
        raise InvalidInput(f"cannot read {exc.filename} ({exc.strerror})") from None
    report = read_report(text, where=str(path))
    try:
        checked = verify_evidence(report, public_pem=pem, fingerprint=fingerprint)
    except ProofFails as failed:
        if json:
            print(
                orjson.dumps({"ok": False, "seq": failed.seq, "message": failed.message}).decode()
            )
        else:
            print(f"FAILED: {failed.message}")
        raise typer.Exit(1) from None
    if json:
        print(orjson.dumps({"ok": True, **checked.to_json()}).decode())
    else:
        print("\n".join(checked.lines()))


@app.command("public-key")
def public_key_command(
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write the PEM to this file.")
    ] = None,
) -> None:
    """Print the installation's audit signing public key (PEM); its fingerprint to stderr.

    Give it to whoever verifies evidence reports (`steward audit verify --evidence FILE
    --public-key KEY.pem`), or just the fingerprint (`--fingerprint`).
    """
    from steward.audit.checkpoints import Signer
    from steward.audit.proof import key_fingerprint

    steward = steward_from_env()
    steward.upgrade()
    signer = Signer.load(steward.settings.home)
    if output is None:
        sys.stdout.write(signer.public_pem)
    else:
        try:
            output.write_text(signer.public_pem, encoding="utf-8")
        except OSError as exc:
            raise InvalidInput(f"--output: cannot write {output} ({exc.strerror})") from None
    sys.stderr.write(f"fingerprint (SHA-256): {key_fingerprint(signer.public_pem)}\n")


@app.command("report")
def report(
    name: Annotated[str, typer.Argument(help="queries-per-day, pii-access, denied, top-datasets")],
    since: Since = None,
    until: Until = None,
    format: Format = "table",
    url: RemoteUrlOption = None,
    token: TokenOption = None,
) -> None:
    """A report as a table, CSV or JSON."""
    from steward.audit import reports
    from steward.audit.log import parse_time
    from steward.catalog.views import pii_columns

    _check_format(format, REPORT_FORMATS)
    start, end = parse_time("since", since), parse_time("until", until)
    if name not in reports.REPORTS:
        raise InvalidInput(f"report: {name!r} is not one of {', '.join(reports.REPORTS)}")
    client = remote(url, token)
    if client is not None:
        params = {k: v for k, v in {"since": since, "until": until}.items() if v is not None}
        shown = client.request("GET", f"/api/v1/audit/reports/{name}", params=params)
        rows = [tuple(row[c] for c in shown["columns"]) for row in shown["rows"]]
        result = reports.Report(shown["title"], tuple(shown["columns"]), rows)
    else:
        steward = steward_from_env()
        steward.upgrade()
        with steward.store.read() as conn:
            result = reports.build_report(
                conn, name, pii_columns=pii_columns, since=start, until=end
            )
        shown = result.to_json()
    if format == "json":
        print(orjson.dumps(shown).decode())
    elif format == "csv":
        sys.stdout.write(result.to_csv())
    else:
        _print_table(
            shown["title"], list(shown["columns"]), [list(r.values()) for r in shown["rows"]]
        )


@app.command("export")
def export(
    loki: Annotated[str | None, typer.Option(help="Loki's URL (else audit_loki_url).")] = None,
    jsonl: Annotated[
        Path | None, typer.Option(help="A JSON lines file (else audit_jsonl_path).")
    ] = None,
) -> None:
    """Send every record not yet exported to Loki and/or a JSON lines file, once."""
    from steward.audit.worker import run_exports

    steward = steward_from_env()
    steward.upgrade()
    settings = steward.settings.model_copy(
        update={
            "audit_loki_url": loki or steward.settings.audit_loki_url,
            "audit_jsonl_path": jsonl or steward.settings.audit_jsonl_path,
        }
    )
    results = run_exports(steward.store, settings)
    if not results:
        raise InvalidInput("no export configured: pass --loki or --jsonl, or set audit_loki_url")
    for result in results:
        err.print(f"{result.exporter}: sent {result.sent}, cursor at seq {result.cursor}")


@app.command("checkpoint")
def checkpoint(
    export_to: Annotated[
        Path | None, typer.Option("--export", help="Also write every checkpoint to this file.")
    ] = None,
) -> None:
    """Sign the chain's head now; with --export, copy all checkpoints out (JSON lines)."""
    from steward.audit.checkpoints import Signer, list_checkpoints, make_checkpoint

    steward = steward_from_env()
    steward.upgrade()
    home = steward.settings.home
    signer = Signer.load(home)
    made = make_checkpoint(steward.store, signer, home)
    err.print(f"checkpoint at seq {made.seq}" if made else "no new records since the last one")
    if export_to is not None:
        with steward.store.read() as conn:
            found = list_checkpoints(conn)
        export_to.write_bytes(b"".join(orjson.dumps(c.to_json()) + b"\n" for c in found))
        err.print(f"{len(found)} checkpoints written to {export_to}")


@app.command("archive")
def archive(
    older_than_days: Annotated[
        float | None, typer.Option(help="Archive records older than this (else retention).")
    ] = None,
) -> None:
    """Move old records into a signed archive segment under $STEWARD_HOME/audit/archive."""
    from steward.audit.checkpoints import Signer
    from steward.audit.log import now
    from steward.audit.retention import archive_before

    steward = steward_from_env()
    steward.upgrade()
    days = older_than_days if older_than_days is not None else steward.settings.audit_retention_days
    if days is None:
        raise InvalidInput("--older-than-days: not given and audit_retention_days is not set")
    home = steward.settings.home
    segment = archive_before(
        steward.store, Signer.load(home), home, before=now() - timedelta(days=days)
    )
    if segment is None:
        err.print("nothing old enough to archive")
    else:
        err.print(f"archived seq {segment.first_seq}..{segment.last_seq} to {segment.file_name}")


@app.command("export-report")
def export_report(
    out: Annotated[Path, typer.Argument(help="The Parquet file to write.")],
    table: Annotated[str, typer.Option(help="daily or access (see docs/audit.md).")] = "access",
    format: Annotated[str, typer.Option("--format", help="parquet (the only one).")] = "parquet",
    since: Since = None,
    until: Until = None,
) -> None:
    """The audit report as a Parquet table for Superset, DuckDB or pandas."""
    from steward.audit.log import AuditFilter
    from steward.audit.report_export import export_report as write_report
    from steward.catalog.views import pii_columns

    if format != "parquet":
        raise InvalidInput(f"--format: {format!r} is not supported; use parquet")
    where = AuditFilter.parse(since=since, until=until)
    steward = steward_from_env()
    steward.upgrade()
    with steward.store.read() as conn:
        pii = pii_columns(conn)
    done = write_report(steward.store, table, out, pii_columns=pii, where=where)
    err.print(f"{done.table}: {done.rows} rows written to {done.path}")
