"""Checks held in the catalog: `steward quality attach FILE` stores each dataset's checks.

`steward quality run DATASET` and `steward publish DATASET` use a dataset's held checks
when no checks file is given. A dataset's entry is the checks file's section for it,
stored as a checks file of its own (validated before it is stored, audited with the
change).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import sqlalchemy as sa
import yaml
from sqlalchemy.engine import Connection

from steward.quality.load import parse_checks
from steward.quality.models import ChecksFile, Dataset
from steward.store import Store
from steward.store.schema import quality_checks

# Records the change in the audit log inside its transaction: (conn, dataset names).
AttachRecorder = Callable[[Connection, list[str]], None]


def attach(
    store: Store, text: str, *, name: str, author: str, record: AttachRecorder | None = None
) -> list[str]:
    """Hold every dataset of checks file `text` in the catalog; returns their names."""
    parsed: ChecksFile = parse_checks(text, name=name)  # refuses a bad file, naming lines
    raw = yaml.safe_load(text)
    sections = {str(d["name"]): d for d in raw.get("datasets", [])}
    when = datetime.now(UTC).replace(tzinfo=None)
    names = [d.name for d in parsed.datasets]
    with store.write() as conn:
        conn.execute(quality_checks.delete().where(quality_checks.c.dataset.in_(names)))
        conn.execute(
            quality_checks.insert(),
            [
                {
                    "dataset": dataset,
                    "checks": yaml.safe_dump(
                        {"version": 1, "datasets": [sections[dataset]]}, sort_keys=False
                    ),
                    "author": author,
                    "updated_at": when,
                }
                for dataset in names
            ],
        )
        if record is not None:
            record(conn, names)
    return names


def held(store: Store, dataset: str) -> Dataset | None:
    """The checks the catalog holds for `dataset`, if any."""
    with store.read() as conn:
        text = conn.execute(
            sa.select(quality_checks.c.checks).where(quality_checks.c.dataset == dataset)
        ).scalar()
    if text is None:
        return None
    return parse_checks(text, name=f"catalog:{dataset}").dataset(dataset)
