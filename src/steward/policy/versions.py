"""Applied policies, versioned in the store: apply, the active one, rollback, diff.

Each apply writes a new version (the files exactly as given, a fresh key for `hash`
masks) and its audit record in one transaction; the newest version is the active one.
A rollback writes an earlier version's files again as a new version, so history only
grows and the audit log says who rolled back to what.
"""

from __future__ import annotations

import difflib
import functools
import hashlib
import secrets
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from steward.audit.log import now
from steward.audit.log import record as audit_record
from steward.errors import NotFound
from steward.identity.models import Principal
from steward.policy.load import ColumnsOf, load
from steward.policy.models import Policy
from steward.store import Store
from steward.store.schema import policy_versions

# What apply and rollback call to audit themselves: (conn, action, details).
Recorder = Callable[[Connection, str, dict[str, Any]], None]


@dataclass(frozen=True)
class PolicyVersion:
    """One applied version as stored."""

    version: int
    created_at: datetime
    author: str | None
    action: str
    restored_from: int | None
    sources: dict[str, str]
    sha256: str

    def to_json(self) -> dict[str, Any]:
        """The version as the API shows it (without the hash key)."""
        return {
            "version": self.version,
            "createdAt": self.created_at.isoformat() + "Z",
            "author": self.author,
            "action": self.action,
            "restoredFrom": self.restored_from,
            "files": sorted(self.sources),
            "sha256": self.sha256,
        }


def catalog_columns(conn: Connection) -> ColumnsOf:
    """`columns_of` over the catalog: a table's columns with their effective tags."""
    from steward.catalog.views import describe_datasets, resolve_dataset

    def columns_of(table: str) -> list[tuple[str, frozenset[str]]] | None:
        try:
            dataset_id = resolve_dataset(conn, table)
        except NotFound:
            return None
        view = describe_datasets(conn, [dataset_id]).get(dataset_id)
        if view is None:
            return None
        # Proposed classifier tags count: a column suspected of PII is masked until
        # someone rejects the tag.
        return [(c["name"], frozenset(t["tag"] for t in c["tags"])) for c in view["columns"]]

    return columns_of


def _sha256(sources: Mapping[str, str]) -> str:
    digest = hashlib.sha256()
    for name, text in sorted(sources.items()):
        digest.update(name.encode() + b"\0" + text.encode() + b"\0")
    return digest.hexdigest()


def _as_sources(text_or_files: str | Mapping[str, str]) -> dict[str, str]:
    if isinstance(text_or_files, str):
        return {"policy.yaml": text_or_files}
    return dict(text_or_files)


def _write(
    conn: Connection,
    sources: dict[str, str],
    *,
    actor: Principal | None,
    action: str,
    restored_from: int | None,
    record: Recorder | None,
) -> int:
    latest = conn.execute(sa.select(sa.func.max(policy_versions.c.version))).scalar()
    version = int(latest or 0) + 1
    sha = _sha256(sources)
    conn.execute(
        policy_versions.insert().values(
            version=version,
            created_at=now(),
            author=actor.user if actor else None,
            action=action,
            restored_from=restored_from,
            sources=sources,
            sha256=sha,
            hash_key=secrets.token_hex(32),
        )
    )
    details: dict[str, Any] = {"version": version, "files": sorted(sources), "sha256": sha}
    if restored_from is not None:
        details["restoredFrom"] = restored_from
    if record is not None:
        record(conn, f"policy.{action}", details)
    else:
        audit_record(
            conn, actor=actor, action=f"policy.{action}", policy=f"v{version}", details=details
        )
    return version


def apply(
    store: Store,
    text_or_files: str | Mapping[str, str],
    *,
    actor: Principal | None,
    record: Recorder | None = None,
    check_catalog: bool = True,
) -> int:
    """Validate a policy (text, or file name -> text) and make it the active version.

    Validation runs against the catalog (tables and columns that masks, filters and
    denies name) unless `check_catalog` is False; an invalid policy raises `PolicyError`
    and changes nothing.
    """
    sources = _as_sources(text_or_files)
    with store.write() as conn:
        load(sources, columns_of=catalog_columns(conn) if check_catalog else None)
        return _write(conn, sources, actor=actor, action="apply", restored_from=None, record=record)


def rollback(
    store: Store, version: int, *, actor: Principal | None, record: Recorder | None = None
) -> int:
    """Make an earlier version's exact files active again, as a new version."""
    with store.write() as conn:
        old = _get(conn, version)
        return _write(
            conn,
            old.sources,
            actor=actor,
            action="rollback",
            restored_from=version,
            record=record,
        )


def _get(conn: Connection, version: int) -> PolicyVersion:
    row = conn.execute(
        sa.select(policy_versions).where(policy_versions.c.version == version)
    ).first()
    if row is None:
        raise NotFound(f"policy version {version} does not exist")
    return PolicyVersion(
        version=row.version,
        created_at=row.created_at,
        author=row.author,
        action=row.action,
        restored_from=row.restored_from,
        sources=dict(row.sources),
        sha256=row.sha256,
    )


def get(store: Store, version: int) -> PolicyVersion:
    """One stored version."""
    with store.read() as conn:
        return _get(conn, version)


def history(store: Store) -> list[PolicyVersion]:
    """Every version, newest first."""
    with store.read() as conn:
        numbers = conn.execute(
            sa.select(policy_versions.c.version).order_by(policy_versions.c.version.desc())
        ).scalars()
        return [_get(conn, n) for n in numbers]


def active(store: Store) -> tuple[int, Policy] | None:
    """The active version and its policy (keyed for `hash` masks), or None before any apply."""
    with store.read() as conn:
        row = conn.execute(
            sa.select(
                policy_versions.c.version, policy_versions.c.sources, policy_versions.c.hash_key
            )
            .order_by(policy_versions.c.version.desc())
            .limit(1)
        ).first()
    if row is None:
        return None
    sources = tuple(sorted(dict(row.sources).items()))
    return int(row.version), _loaded(int(row.version), sources, row.hash_key)


@functools.lru_cache(maxsize=16)
def _loaded(version: int, sources: tuple[tuple[str, str], ...], hash_key: str) -> Policy:
    """One applied version read and its rules parsed, once however many queries read it.

    Keyed by the stored text too, so a store holding other text under the same number
    (another database) never gets this one; the text stays the source of truth.
    """
    policy = load(dict(sources)).policy.with_hash_key(hash_key)
    policy.parsed_rules()
    return policy


def diff(
    old: Policy | None,
    new: Policy,
    *,
    old_sources: Mapping[str, str] | None = None,
    new_sources: Mapping[str, str] | None = None,
) -> list[str]:
    """What changes from `old` to `new`, one readable line each (`+ grant ...`, `- mask ...`).

    Given the sources too, a unified diff of the text follows the summary.
    """
    before = rule_lines(old) if old is not None else []
    after = rule_lines(new)
    lines = [f"- {line}" for line in before if line not in after]
    lines += [f"+ {line}" for line in after if line not in before]
    if old_sources is not None and new_sources is not None:
        for name in sorted(set(old_sources) | set(new_sources)):
            lines += [
                line.rstrip("\n")
                for line in difflib.unified_diff(
                    old_sources.get(name, "").splitlines(keepends=True),
                    new_sources.get(name, "").splitlines(keepends=True),
                    fromfile=f"active/{name}",
                    tofile=f"new/{name}",
                )
            ]
    return lines


def _list(values: Sequence[str]) -> str:
    return ", ".join(values)


def rule_lines(policy: Policy) -> list[str]:
    """Each role and rule of a policy as one line, for diffs and `policy show`."""
    lines = [
        f"role {name}: groups [{_list(role.groups)}]"
        + (f" users [{_list(role.users)}]" if role.users else "")
        for name, role in sorted(policy.roles.items())
    ]
    for grant in policy.grants:
        for verb in ("select", "describe"):
            names = getattr(grant, verb)
            if names:
                lines.append(f"grant {verb} on [{_list(names)}] to [{_list(grant.roles)}]")
    for mask in policy.masks:
        how = f"sql {mask.sql}" if mask.sql else str(mask.mask)
        if mask.mask == "round":
            how += f" {mask.digits}"
        line = f"mask [{_list(mask.columns)}] with {how}"
        if mask.roles is not None:
            line += f" for [{_list(mask.roles)}]"
        if mask.except_:
            line += f" except [{_list(mask.except_)}]"
        lines.append(line)
    for rule in policy.row_filters:
        line = f"row filter on {rule.table} for [{_list(rule.roles)}]: {rule.where}"
        if rule.except_:
            line += f" except [{_list(rule.except_)}]"
        lines.append(line)
    for deny in policy.deny:
        names = [*deny.tables, *deny.columns]
        lines.append(f"deny [{_list(names)}] to [{_list(deny.roles)}]")
    return lines
