"""The web UI in a real browser (Debian's Chromium through Playwright) against a live
`steward serve`: sign in, search, a dataset's tabs, masks, admin-only pages, sign out."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.web.conftest import CUSTOMERS, ORDERS, REPORT, REPORT_NODE, Shop, screenshot, sign_in

pytestmark = pytest.mark.timeout(300)


def test_admin_signs_in_searches_opens_a_dataset_and_signs_out(shop: Shop, page: Any) -> None:
    from playwright.sync_api import expect

    page.goto(f"{shop.url}/")
    expect(page).to_have_url(re.compile(r"/login$"))
    screenshot(page, "login")
    sign_in(page, shop.url, shop.admin)
    expect(page.get_by_test_id("signed-in-as")).to_contain_text("admin")

    # Keyboard first: the first Tab reaches the skip link, which lands on the content.
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to content")).to_be_focused()
    # "/" focuses the search box; the results are ranked as the API ranks them.
    page.locator("body").press("/")
    expect(page.get_by_label("Search datasets")).to_be_focused()
    page.keyboard.type("orders")
    page.keyboard.press("Enter")
    results = page.get_by_test_id("result")
    expect(results.first).to_contain_text(ORDERS)
    assert shown_names(page) == shop_search(shop, "orders")
    expect(results.first).to_contain_text("olga")  # owner
    expect(results.first).to_contain_text("sales")  # tag
    expect(results.first).to_contain_text("failing")  # quality: the newest run failed
    screenshot(page, "search")

    # Several results come in the API's order.
    page.get_by_label("Search datasets").fill("customer")
    page.get_by_label("Search datasets").press("Enter")
    expect(results).to_have_count(3)  # customers, orders (customer_id), the report
    assert shown_names(page) == shop_search(shop, "customer")

    # Facets narrow the results: the PII facet keeps the customers table only.
    page.goto(f"{shop.url}/")
    page.get_by_role("link", name="yes").click()
    expect(page.get_by_test_id("result")).to_have_count(1)
    expect(page.get_by_test_id("result")).to_contain_text(CUSTOMERS)

    page.get_by_role("link", name=CUSTOMERS).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(CUSTOMERS)
    # An admin sees every column clear.
    expect(page.get_by_test_id("column-email")).to_contain_text("pii.email")
    expect(page.get_by_test_id("mask")).to_have_count(0)
    expect(page.get_by_test_id("column-region")).to_contain_text(
        "deprecated → country, sunset 2027-01-01"
    )
    screenshot(page, "dataset-schema")

    # Who queried it, from the audit log: the analyst, twice.
    tabs(page).get_by_role("link", name="Usage", exact=True).click()
    expect(page.get_by_test_id("usage").locator("tbody tr")).to_have_count(1)
    expect(page.get_by_test_id("usage").locator("tbody tr")).to_contain_text("ana")
    expect(page.get_by_test_id("usage").locator("tbody tr td").first).to_have_text("2")
    screenshot(page, "dataset-usage")

    # The lineage tab links the neighbours: the report built from this table.
    tabs(page).get_by_role("link", name="Lineage", exact=True).click()
    expect(page.get_by_test_id("upstream")).to_contain_text("none")
    page.get_by_test_id("downstream").get_by_role("link", name=REPORT_NODE).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(REPORT)
    # Nested fields show as a tree under their column, each level inside the one above.
    shipping = page.get_by_test_id("column-shipping")
    expect(shipping.locator("ul.tree > li", has_text="city")).to_have_count(1)
    expect(shipping.locator("ul.tree ul.tree > li")).to_have_text(
        [re.compile(r"^lat\s+DOUBLE"), re.compile(r"^lon\s+DOUBLE")]
    )
    expect(shipping).to_contain_text("Where the orders went")
    screenshot(page, "dataset-nested")
    # Its schema history: version 2 added a column.
    tabs(page).get_by_role("link", name="Schema history", exact=True).click()
    versions = page.get_by_test_id("version")
    expect(versions).to_have_count(2)
    expect(versions.first).to_contain_text("Version 2")
    expect(versions.first.locator(".diff li")).to_have_text([re.compile(r"added order_count")])
    expect(versions.last).to_contain_text("First version")
    screenshot(page, "dataset-history-diff")
    tabs(page).get_by_role("link", name="Lineage", exact=True).click()
    expect(page.get_by_test_id("upstream").get_by_role("link")).to_have_text([CUSTOMERS, ORDERS])

    page.goto(f"{shop.url}/datasets/{ORDERS}")
    for name, test_id, shot in (
        ("Quality", "check", "dataset-quality"),
        ("Schema history", "version", "dataset-history"),
    ):
        tabs(page).get_by_role("link", name=name, exact=True).click()
        expect(tabs(page).get_by_role("link", name=name, exact=True)).to_have_attribute(
            "aria-current", "page"
        )
        expect(page.get_by_test_id(test_id).first).to_be_visible()
        screenshot(page, shot)
    flapping = page.goto(f"{shop.url}/datasets/{ORDERS}?tab=quality")
    assert flapping is not None
    expect(page.get_by_test_id("check").filter(has_text="total_positive")).to_contain_text(
        "flapping"
    )
    # dbt's tests, reported through OpenLineage, beside Steward's own checks.
    unique = page.get_by_test_id("check").filter(has_text="unique(id)")
    expect(unique).to_contain_text("openlineage")
    expect(unique).to_contain_text("fail")
    expect(page.get_by_test_id("check").filter(has_text="not_null(id)")).to_contain_text("pass")
    screenshot(page, "dataset-quality")
    for name, shot in (("Properties", "dataset-properties"), ("Lineage", "dataset-lineage")):
        tabs(page).get_by_role("link", name=name, exact=True).click()
        expect(page.locator("#panel-title")).to_have_text(re.compile(name))
        screenshot(page, shot)

    page.get_by_role("link", name="Policies").click()
    expect(page.get_by_test_id("rules")).to_contain_text("mask")
    # The active version is 2; its diff shows what it added, version 1's what it started with.
    expect(page.get_by_role("heading", name="Active: version 2")).to_be_visible()
    diff = page.get_by_test_id("policy-diff")
    expect(diff).to_contain_text("+ role auditor: groups [auditors]")
    expect(diff).to_contain_text("+ grant describe on [shop.*] to [auditor]")
    expect(diff).not_to_contain_text("+ role analyst")
    page.get_by_role("link", name="1", exact=True).click()
    expect(diff).to_contain_text("+ role analyst: groups [analysts]")
    expect(diff).not_to_contain_text("auditor")
    page.get_by_label("Role", exact=True).select_option("analyst")
    page.get_by_label("Table", exact=True).fill(CUSTOMERS)
    page.get_by_role("button", name="Explain").click()
    explain = page.get_by_test_id("explain")
    expect(explain.locator("tr", has_text="email")).to_contain_text("masked")
    expect(explain.locator("tr", has_text="region")).to_contain_text("clear")
    screenshot(page, "policies")

    page.get_by_role("link", name="API", exact=True).click()
    expect(page.get_by_text("/api/v1/catalog/search").first).to_be_visible()
    screenshot(page, "api-docs")

    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/login$"))
    page.goto(f"{shop.url}/datasets/{ORDERS}")
    expect(page).to_have_url(re.compile(r"/login\?next="))


def shown_names(page: Any) -> list[str]:
    """The names of the search results on the page, in order."""
    return [
        name.strip() for name in page.get_by_test_id("result").locator("h2 a").all_inner_texts()
    ]


def tabs(page: Any) -> Any:
    """The dataset page's tab bar."""
    return page.get_by_role("navigation", name="Dataset sections")


def shop_search(shop: Shop, q: str) -> list[str]:
    """The names `GET /api/v1/catalog/search` returns, best first."""
    from tests.web.conftest import api

    with api(shop, shop.admin) as http:
        found = http.get("/api/v1/catalog/search", params={"q": q})
        assert found.status_code == 200, found.text
        return [r["name"] for r in found.json()["results"]]


def test_masked_column_shows_as_masked_and_policies_are_refused(shop: Shop, page: Any) -> None:
    from playwright.sync_api import expect

    # Search shows only what the policy lets them describe: not the report only lineage knows.
    sign_in(page, shop.url, shop.analyst, "/?q=customer")
    names = shown_names(page)
    assert names == [n for n in shop_search(shop, "customer") if n.startswith("shop.")]
    assert f"warehouse/{REPORT}" in shop_search(shop, "customer")  # what an admin finds
    assert f"warehouse/{REPORT}" not in names
    page.goto(f"{shop.url}/datasets/{CUSTOMERS}")
    expect(page).to_have_url(re.compile(rf"/datasets/{re.escape(CUSTOMERS)}$"))
    expect(page.get_by_test_id("column-email").get_by_test_id("mask")).to_have_text(
        "masked (email)"
    )
    expect(page.get_by_test_id("column-region")).to_contain_text("clear")
    # Not an owner: no editing, and who queried it is not theirs to see.
    expect(page.get_by_text("Edit description, owners and tags")).to_have_count(0)
    screenshot(page, "dataset-masked")
    tabs(page).get_by_role("link", name="Usage", exact=True).click()
    expect(page.get_by_test_id("usage-refused")).to_be_visible()

    # Admin-only pages refuse them with a 403 page; the navigation does not offer them.
    expect(page.get_by_role("link", name="Policies")).to_have_count(0)
    response = page.goto(f"{shop.url}/policies")
    assert response is not None
    assert response.status == 403
    expect(page.get_by_test_id("error-message")).to_contain_text("admins")
    screenshot(page, "policies-refused")


def test_owner_edits_description_owners_and_tags_inline(shop: Shop, page: Any) -> None:
    from playwright.sync_api import expect

    from tests.web.conftest import api

    sign_in(page, shop.url, shop.owner, f"/datasets/{ORDERS}")
    page.get_by_text("Edit description, owners and tags").click()
    page.get_by_label("Description").fill("Every order, one row each")
    page.get_by_label("Tags (comma-separated)").fill("sales, finance")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_have_text("Saved.")
    expect(page.get_by_test_id("description")).to_have_text("Every order, one row each")
    screenshot(page, "dataset-edited")
    with api(shop, shop.admin) as http:
        stored = http.get(f"/api/v1/datasets/{ORDERS}").json()
    assert stored["description"]["text"] == "Every order, one row each"
    assert {t["tag"] for t in stored["tags"]} == {"sales", "finance"}
    assert stored["description"]["author"] == "olga"
    # A page's script reaches the JSON API with the session and its CSRF token ...
    patched = page.evaluate(
        """ref => steward.api('/api/v1/datasets/' + ref, {method: 'PATCH',
                                                        body: {addTags: ['from-script']}})
              .then(d => d.tags.map(t => t.tag))""",
        ORDERS,
    )
    assert "from-script" in patched
    # ... and without the token the same request is refused.
    refused = page.evaluate(
        """ref => fetch('/api/v1/datasets/' + ref, {method: 'PATCH',
                 headers: {'Content-Type': 'application/json'},
                 body: JSON.stringify({addTags: ['forged']})}).then(r => r.status)""",
        ORDERS,
    )
    assert refused == 403
    # An owner may see who queried their dataset.
    tabs(page).get_by_role("link", name="Usage", exact=True).click()
    expect(page.get_by_test_id("usage").locator("tbody tr")).to_contain_text("ana")
