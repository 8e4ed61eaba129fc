"""API tokens carry scopes and attributes: made, stored, proven, listed, and refused when bad."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command

from steward.app import Steward
from steward.config import Settings
from steward.errors import InvalidInput
from steward.identity.models import LINEAGE_WRITE
from steward.identity.tokens import (
    authenticate,
    create_token,
    list_tokens,
    parse_attribute,
    remembered,
)
from steward.store.database import alembic_config
from steward.store.schema import api_tokens


def test_scopes_and_attributes_come_back_from_the_store(steward: Steward) -> None:
    issued = create_token(
        steward.store,
        user="airflow",
        groups=["pipelines"],
        scopes=[LINEAGE_WRITE, LINEAGE_WRITE],
        attributes=[("region", "EU"), ("cost_centre", "42")],
    )
    assert issued.principal.scopes == {LINEAGE_WRITE}
    proven = authenticate(steward.store, issued.secret)
    assert proven.scopes == {LINEAGE_WRITE}
    assert proven.may(LINEAGE_WRITE)
    assert proven.attributes == (("cost_centre", "42"), ("region", "EU"))
    assert proven.attribute_map == {"region": "EU", "cost_centre": "42"}
    # The moment's memory of a valid token answers with the same principal.
    assert remembered(steward.store, issued.secret) == proven


def test_a_token_without_scopes_may_only_read(steward: Steward) -> None:
    issued = create_token(steward.store, user="ana")
    proven = authenticate(steward.store, issued.secret)
    assert proven.scopes == frozenset()
    assert proven.attributes == ()
    assert not proven.may(LINEAGE_WRITE)


def test_admin_tokens_hold_every_scope(steward: Steward) -> None:
    issued = create_token(steward.store, user="root", is_admin=True)
    assert authenticate(steward.store, issued.secret).may(LINEAGE_WRITE)


def test_unknown_scope_is_refused_by_name_and_nothing_is_stored(steward: Steward) -> None:
    with pytest.raises(InvalidInput, match="'lineage:wirte' is not a known scope") as caught:
        create_token(steward.store, user="airflow", scopes=[LINEAGE_WRITE, "lineage:wirte"])
    known = caught.value.message.split("known: ")[1].split(", ")
    assert LINEAGE_WRITE in known
    assert list_tokens(steward.store) == []


@pytest.mark.parametrize(
    ("attributes", "problem"),
    [
        ([("bad name", "EU")], "not a valid attribute name"),
        ([("region", "EU"), ("region", "US")], "given more than once"),
        ([("region", "")], "1 to 200 printable characters"),
        ([("region", "E\x00U")], "printable"),
        ([("region", "x" * 201)], "1 to 200"),
    ],
)
def test_bad_attributes_are_refused(
    steward: Steward, attributes: list[tuple[str, str]], problem: str
) -> None:
    with pytest.raises(InvalidInput, match=problem):
        create_token(steward.store, user="ana", attributes=attributes)
    assert list_tokens(steward.store) == []


def test_attribute_text_is_name_equals_value() -> None:
    assert parse_attribute("region=EU") == ("region", "EU")
    assert parse_attribute("team = a=b") == ("team", "a=b")
    with pytest.raises(InvalidInput, match="NAME=VALUE"):
        parse_attribute("region")


def test_listing_shows_scopes_and_attributes_never_secrets(steward: Steward) -> None:
    issued = create_token(
        steward.store, user="airflow", scopes=[LINEAGE_WRITE], attributes=[("region", "EU")]
    )
    (listed,) = list_tokens(steward.store)
    assert listed.token_id == issued.token_id
    assert listed.scopes == (LINEAGE_WRITE,)
    assert listed.attributes == (("region", "EU"),)
    assert issued.secret not in repr(listed)


def test_tokens_made_before_migration_0007_hold_no_scope(tmp_path: Path) -> None:
    steward = Steward(Settings(home=tmp_path / "home"))
    config = alembic_config(steward.store.engine.url.render_as_string(hide_password=False))
    with steward.store.engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "0006")
    old = sa.Table("api_tokens", sa.MetaData(), autoload_with=steward.store.engine)
    with steward.store.engine.begin() as conn:
        conn.execute(
            old.insert().values(
                token_id="0123456789ab",
                token_hash="0" * 64,
                user_name="legacy",
                groups=[],
                is_admin=False,
                created_at=sa.func.current_timestamp(),
            )
        )
    steward.upgrade()
    with steward.store.read() as conn:
        row = conn.execute(sa.select(api_tokens)).one()
    assert row.scopes == []
    assert row.attributes == {}
    assert list_tokens(steward.store)[0].scopes == ()
    steward.close()
