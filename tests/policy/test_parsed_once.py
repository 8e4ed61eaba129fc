"""A policy's masks and filters are parsed once per applied version, not once per query,
and each engine's SQL is rendered from those same parsed expressions."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from sqlglot import exp

from steward.app import Steward
from steward.identity.models import Principal
from steward.policy import decide, parsed, secure
from steward.policy.models import Policy
from steward.policy.query import run_query
from steward.policy.rewrite import Catalog, govern, internal_name
from steward.policy.statement import AllowList
from steward.policy.versions import active, apply
from steward.policy.wiring import access_for
from tests.policy.conftest import COLUMNS, ISSUE_POLICY

TABLE = "lake.crm.customers"
EU = Principal(user="eve", groups=frozenset({"analysts-eu"}))


class Counter:
    """Calls to a parse function, with the text each was given."""

    def __init__(self) -> None:
        self.texts: list[str] = []
        self.policies = 0

    def expression(self, sql: str) -> exp.Expr:
        self.texts.append(sql)
        return ORIGINAL_PARSE(sql)

    def policy(self, policy: Policy) -> parsed.ParsedRules:
        self.policies += 1
        return ORIGINAL_PARSE_POLICY(policy)


ORIGINAL_PARSE = parsed.parse_expression
ORIGINAL_PARSE_POLICY = parsed.parse_policy


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch) -> Counter:
    """Every parse of policy SQL counted, wherever the policy package does it."""
    counter = Counter()
    for module in (parsed, decide, secure):
        monkeypatch.setattr(module, "parse_expression", counter.expression)
    monkeypatch.setattr(parsed, "parse_policy", counter.policy)
    return counter


def _emails(steward: Steward) -> list[str]:
    result = run_query(
        steward,
        f"SELECT email FROM {TABLE} ORDER BY id",
        EU,
        access_for=access_for(steward, EU),
    )
    return [row[0] for row in result.rows]


def test_a_mask_is_parsed_once_per_policy_version_however_many_queries_run(
    lake: Steward, counted: Counter
) -> None:
    apply(lake.store, ISSUE_POLICY, actor=None)
    first = _emails(lake)
    assert first == ["p****@example.com", "p****@example.com"]  # EU rows only, masked
    assert counted.policies == 1
    parses_after_first = len(counted.texts)

    for _ in range(10):
        assert _emails(lake) == first
    assert counted.policies == 1
    assert len(counted.texts) == parses_after_first, counted.texts[parses_after_first:]

    # A new version (another mask) is parsed once more, and then not again.
    apply(lake.store, ISSUE_POLICY.replace("mask: email", "mask: redact"), actor=None)
    assert _emails(lake) == ["****", "****"]
    assert counted.policies == 2
    again = len(counted.texts)
    for _ in range(5):
        assert _emails(lake) == ["****", "****"]
    assert counted.policies == 2
    assert len(counted.texts) == again


def _catalog() -> Catalog:
    names = [c for c, _ in COLUMNS]

    def columns(tables: Sequence[str]) -> dict[str, list[tuple[str, frozenset[str]]]]:
        return {t: list(COLUMNS) for t in tables}

    return Catalog(names=[TABLE], columns=columns, physical=lambda *_: names)


def test_duckdb_and_spark_sql_are_rendered_from_the_same_parsed_mask(
    lake: Steward, counted: Counter
) -> None:
    apply(lake.store, ISSUE_POLICY, actor=None)
    chosen = active(lake.store)
    assert chosen is not None
    template = chosen[1].parsed_rules().masks[0]
    assert template is not None
    access = access_for(lake, EU)
    parses = len(counted.texts)

    rendered = {
        engine: govern(
            f"SELECT email FROM {TABLE}",
            catalog=_catalog(),
            access=access,
            salt="s",
            allowed=AllowList.named(engine),
        ).sql
        for engine in ("duckdb", "spark")
    }

    assert len(counted.texts) == parses  # neither engine's SQL parsed the mask again
    table = exp.to_identifier(internal_name(TABLE, salt="s"), quoted=True)
    for engine, sql in rendered.items():
        mask = parsed.mask_expression(template, "email").sql(dialect=engine)
        # The view binds each column to its own table; without that, the mask as parsed.
        assert mask in sql.replace(table.sql(dialect=engine) + ".", "")
    assert "STRPOS" in rendered["duckdb"].upper()
    assert "LOCATE(" in rendered["spark"].upper()
    # Rendering copies: the parsed mask still names the placeholder, not a table column.
    assert template.find(exp.Column) is not None
    assert all(c.table == "" for c in template.find_all(exp.Column))
