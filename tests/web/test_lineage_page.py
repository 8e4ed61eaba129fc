"""The lineage explorer (/lineage) in Debian's Chromium against a live `steward serve`:
expand and collapse, column mode, the time slider, jobs and their runs, symlinked names,
SVG/PNG export, the impact CSV, and what a principal who may not describe a dataset sees.
Also: the committed bundle is what `npm ci && npm run build` makes of the sources."""

from __future__ import annotations

import csv
import io
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from tests.openlineage_events import dataset, run_event
from tests.web.cached_npm import cached_npm
from tests.web.conftest import (
    CUSTOMERS,
    ORDERS,
    REPORT,
    SCREENSHOTS,
    Shop,
    api,
    screenshot,
    sign_in,
)

pytestmark = pytest.mark.timeout(300)

FRONTEND = Path(__file__).parents[2] / "src" / "steward" / "web" / "frontend"
BUNDLE = FRONTEND.parent / "static" / "lineage.js"
DOMAINS = "analytics.customer_domains"
EXPORT = "analytics.domain_export"
LOCATION = "/lake/customer_domains"


def _more_lineage(shop: Shop) -> str:
    """A job deriving email domains from the customers (column lineage with a
    transformation), its output owned by a team and stored at a location that a later
    job reads by that location (one table, two names). Returns the customers' node id."""
    with api(shop, shop.admin) as http:
        found = http.get("/api/v1/lineage", params={"nodeId": CUSTOMERS, "depth": "0"})
        assert found.status_code == 200, found.text
        customers = found.json()["graph"][0]["data"]
        shop_ns = customers["namespace"]
        lineage = {
            "fields": {
                "email_domain": {
                    "inputFields": [
                        {
                            "namespace": shop_ns,
                            "name": CUSTOMERS,
                            "field": "email",
                            "transformations": [
                                {
                                    "type": "DIRECT",
                                    "subtype": "TRANSFORMATION",
                                    "description": "split_part(email, '@', 2)",
                                    "masking": True,
                                }
                            ],
                        }
                    ]
                }
            }
        }
        output = dataset(
            "warehouse",
            DOMAINS,
            ["email_domain"],
            ownership={"owners": [{"name": "team:marts", "type": "MAINTAINER"}]},
            symlinks={"identifiers": [{"namespace": "file", "name": LOCATION, "type": "LOCATION"}]},
            columnLineage=lineage,
        )
        events = [
            run_event(
                "customer_domains",
                inputs=[dataset(shop_ns, CUSTOMERS)],
                outputs=[output],
                event_time="2024-06-01T10:00:00.000Z",
            ),
            run_event(
                "export_domains",
                inputs=[dataset("file", LOCATION)],
                outputs=[dataset("warehouse", EXPORT)],
                event_time="2024-06-02T10:00:00.000Z",
            ),
        ]
        for event in events:
            sent = http.post("/api/v1/lineage", json=event)
            assert sent.status_code == 201, sent.text
    return f"dataset:{shop_ns}:{CUSTOMERS}"


def shop_namespace(shop: Shop) -> str:
    """The namespace the catalog gave the shop's tables."""
    with api(shop, shop.admin) as http:
        found = http.get("/api/v1/lineage", params={"nodeId": ORDERS, "depth": "0"})
        assert found.status_code == 200, found.text
        namespace: str = found.json()["graph"][0]["data"]["namespace"]
        return namespace


def node(page: Any, name: str) -> Any:
    return page.locator(
        "#graph g.node",
        has=page.locator("text", has_text=re.compile(f"^{re.escape(name)}( ≡\\d+)?$")),
    )


def shown(page: Any) -> set[str]:
    return set(page.eval_on_selector_all("#graph g.node", "gs => gs.map(g => g.dataset.id)"))


def test_explorer_expands_collapses_follows_a_column_and_exports(
    shop: Shop, page: Any, tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    customers_id = _more_lineage(shop)
    sign_in(page, shop.url, shop.admin, f"/datasets/{CUSTOMERS}?tab=lineage")
    page.get_by_test_id("open-explorer").click()
    expect(page).to_have_url(re.compile(r"/lineage\?node="))
    expect(page.locator("#lineage")).to_have_attribute("data-ready", "true")
    expect(page.get_by_role("heading", level=1)).to_contain_text(CUSTOMERS)
    screenshot(page, "lineage-explorer")

    # Depth 3 both ways from the customers: both jobs reading it, their outputs, and the
    # job reading the domains table by its location.
    for name in (CUSTOMERS, REPORT, DOMAINS, EXPORT, "build_customer_orders", "export_domains"):
        expect(node(page, name)).to_have_count(1)
    expect(node(page, ORDERS)).to_have_count(0)  # a sibling input: not up- or downstream
    # The table under two names is one node that lists the other.
    node(page, DOMAINS).click()
    expect(page.get_by_test_id("same-as")).to_contain_text(f"dataset:file:{LOCATION}")

    # Expanding the report's job (click) fetches its neighbours: the orders table.
    node(page, "build_customer_orders").click()
    expect(node(page, ORDERS)).to_have_count(1)
    expect(page.get_by_test_id("latest-run")).to_contain_text("COMPLETE")
    expect(page.get_by_test_id("runs").locator("li")).to_have_count(2)  # two runs, day 1 and 2
    screenshot(page, "lineage-expanded")

    # Keyboard: Tab reaches the nodes, each named for a screen reader.
    page.get_by_role("link", name="Impact CSV").focus()
    page.keyboard.press("Tab")
    focused = page.evaluate("() => document.activeElement.getAttribute('aria-label')")
    assert re.match(r"^(dataset|job) \S+.*Enter expands", focused)
    # "-" collapses the subtree beyond the domains table.
    before = shown(page)
    node(page, DOMAINS).focus()
    page.keyboard.press("-")
    expect(node(page, EXPORT)).to_have_count(0)
    expect(node(page, "export_domains")).to_have_count(0)
    assert shown(page) == before - {f"dataset:warehouse:{EXPORT}", "job:etl:export_domains"}
    screenshot(page, "lineage-collapsed")
    page.keyboard.press("Enter")  # expands it again
    expect(node(page, EXPORT)).to_have_count(1)

    # Column mode: the customers' email lights up its path, the transformation on the edge.
    node(page, CUSTOMERS).click()
    print(
        "DEBUG",
        page.evaluate(
            "(id) => fetch('/api/v1/datasets/' + encodeURIComponent(id)).then(r => r.text())",
            customers_id,
        )[:600],
    )
    page.get_by_label("Column").select_option(label="email")
    label = page.get_by_test_id("transformation")
    expect(label).to_have_count(1)
    expect(label).to_contain_text(
        "email→email_domain: DIRECT/TRANSFORMATION split_part(email, '@', 2)"
    )
    lit = set(page.eval_on_selector_all("#graph g.node.lit", "gs => gs.map(g => g.dataset.id)"))
    assert lit == {customers_id, "job:etl:customer_domains", f"dataset:warehouse:{DOMAINS}"}
    screenshot(page, "lineage-column")

    # Find a node by name: it is focused.
    page.get_by_label("Find a node").fill(EXPORT)
    page.get_by_label("Find a node").press("Enter")
    expect(node(page, EXPORT)).to_be_focused()

    # Export: SVG holding every node shown, PNG an image.
    with page.expect_download() as svg_download:
        page.get_by_role("button", name="SVG").click()
    saved = tmp_path / "graph.svg"
    svg_download.value.save_as(saved)
    tree = ET.parse(saved)
    texts = {t.text for t in tree.iter("{http://www.w3.org/2000/svg}text")}
    assert {CUSTOMERS, ORDERS, REPORT, EXPORT, "customer_domains"} <= texts
    assert f"{DOMAINS} ≡1" in texts
    with page.expect_download() as png_download:
        page.get_by_role("button", name="PNG").click()
    png = tmp_path / "graph.png"
    png_download.value.save_as(png)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    shutil.copy2(png, SCREENSHOTS / "lineage-export.png")  # to look at

    # The impact list: everything downstream, with depth and owners.
    with page.expect_download() as csv_download:
        page.get_by_role("link", name="Impact CSV").click()
    rows = list(csv.DictReader(io.StringIO(Path(csv_download.value.path()).read_text())))
    assert [(r["depth"], r["type"], r["name"], r["owners"]) for r in rows] == [
        ("1", "dataset", DOMAINS, "team:marts"),
        ("1", "dataset", REPORT, ""),
        ("1", "job", "build_customer_orders", ""),
        ("1", "job", "customer_domains", ""),
        ("2", "dataset", EXPORT, ""),
        ("2", "job", "export_domains", ""),
    ]

    # The time slider: before the domains job first ran, it is not in the graph.
    slider = page.locator("#as-of")
    low, high = (float(slider.get_attribute(a)) for a in ("data-low", "data-high"))
    moment = datetime.fromisoformat("2024-05-20T00:00:00+00:00").timestamp() * 1000
    step = round((moment - low) / (high - low) * 200)
    slider.evaluate("(s, v) => { s.value = v; s.dispatchEvent(new Event('change')); }", str(step))
    expect(page.locator("#graph-status")).to_contain_text("as of 2024-05-")
    expect(page.locator("#as-of-value")).to_contain_text("2024-05-")
    # Column mode stays on across time: the email column's path as it was then.
    expect(page.get_by_label("Column")).to_have_value(re.compile(r":email$"))
    expect(page.get_by_test_id("transformation")).to_have_count(0)
    expect(node(page, REPORT)).to_have_count(1)
    expect(node(page, "customer_domains")).to_have_count(0)
    expect(page).to_have_url(re.compile(r"asOf=2024-05-"))
    screenshot(page, "lineage-as-of")
    slider.focus()
    page.keyboard.press("End")
    expect(page.locator("#as-of-value")).to_have_text("now")
    expect(node(page, "customer_domains")).to_have_count(1)
    expect(page.get_by_test_id("transformation")).to_have_count(1)


def test_a_dataset_the_viewer_may_not_describe_shows_its_name_only(shop: Shop, page: Any) -> None:
    from playwright.sync_api import expect

    _more_lineage(shop)
    sign_in(page, shop.url, shop.analyst, f"/lineage?node={CUSTOMERS}")
    expect(page.locator("#lineage")).to_have_attribute("data-ready", "true")
    # The analyst may describe the shop's tables, not the warehouse's: those nodes show
    # their name only, as the API shows them, without columns, owners or description.
    node(page, REPORT).click()
    expect(page.get_by_test_id("undescribed")).to_be_visible()
    expect(page.get_by_test_id("details")).not_to_contain_text("Owners")
    expect(node(page, REPORT)).to_have_class(re.compile("undescribed"))
    # Nor its other names (symlinks are withheld from those who may not describe it).
    expect(node(page, DOMAINS).locator("text")).to_have_text(DOMAINS)
    node(page, DOMAINS).click()
    expect(page.get_by_test_id("same-as")).to_have_count(0)
    # Column mode stops where columns are not shown: no transformation into the domains.
    node(page, CUSTOMERS).click()
    page.get_by_label("Column").select_option(label="email")
    expect(page.locator("#graph g.node.lit")).to_have_count(1)
    expect(page.get_by_test_id("transformation")).to_have_count(0)
    screenshot(page, "lineage-analyst")
    # The impact CSV shows the same: no owners of what the analyst may not describe.
    text = page.request.get(f"{shop.url}/lineage/impact.csv?node={CUSTOMERS}").text()
    rows = {r["name"]: r for r in csv.DictReader(io.StringIO(text))}
    assert rows[DOMAINS]["owners"] == ""
    assert rows[DOMAINS]["described"] == "no"
    # Olga's governed queries are lineage of hers: a job `steward://query`/olga reading
    # the orders into `steward://consumer`/olga. (The shop's DuckDB file is a metadata
    # source, not queryable through Steward, so the test sends the event a query of hers
    # records.) The admin sees that job in the graph; the analyst does not see it at all.
    query = run_event(
        "olga",
        namespace="steward://query",
        inputs=[dataset(shop_namespace(shop), ORDERS)],
        outputs=[dataset("steward://consumer", "olga")],
    )
    with api(shop, shop.admin) as http:
        sent = http.post("/api/v1/lineage", json=query)
        assert sent.status_code == 201, sent.text
        graph = http.get("/api/v1/lineage", params={"nodeId": ORDERS, "depth": "1"}).json()
    olga = "job:steward://query:olga"
    assert olga in {n["id"] for n in graph["graph"]}
    page.goto(f"{shop.url}/lineage?node={ORDERS}&depth=1")
    expect(page.locator("#lineage")).to_have_attribute("data-ready", "true")
    expect(node(page, "build_customer_orders")).to_have_count(1)
    assert olga not in shown(page)
    assert not any("olga" in n for n in shown(page))
    missing = page.goto(f"{shop.url}/lineage?node={olga}")
    assert missing is not None
    assert missing.status == 404

    # Bad input is a 400 page naming the field; no node asks for one.
    for query, field in (("depth=lots", "depth"), ("asOf=yesterday", "asOf")):
        answer = page.goto(f"{shop.url}/lineage?node={CUSTOMERS}&{query}")
        assert answer is not None
        assert answer.status == 400
        expect(page.get_by_role("main")).to_contain_text(field)
    page.goto(f"{shop.url}/lineage")
    expect(page.get_by_label("Dataset or job")).to_have_value("")
    expect(page.locator("#graph")).to_have_count(0)
    # A node nobody stored is "not found", as in the API.
    missing = page.goto(f"{shop.url}/lineage?node=shop.main.nothing")
    assert missing is not None
    assert missing.status == 404


def test_the_committed_bundle_is_what_the_locked_build_makes(tmp_path: Path) -> None:
    """`npm ci && npm run build` from the committed lock gives the committed bytes."""
    installed = cached_npm("lineage-frontend", FRONTEND)
    work = tmp_path / "frontend"
    work.mkdir()
    (tmp_path / "static").mkdir()
    for f in ("package.json", "package-lock.json"):
        shutil.copy2(FRONTEND / f, work / f)
    shutil.copytree(FRONTEND / "src", work / "src")
    (work / "node_modules").symlink_to(installed / "node_modules")
    npm = shutil.which("npm")
    assert npm is not None
    done = subprocess.run(
        [npm, "run", "build"], cwd=work, capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "static" / "lineage.js").read_bytes() == BUNDLE.read_bytes()
