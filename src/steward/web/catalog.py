"""Search (`/`) and a dataset's page (`/datasets/{ref}`), as the signed-in principal sees them.

Each calls the domain functions the JSON API calls (`catalog.search.search`,
`catalog.views.dataset_page`, `policy.sight.sight_for`, ...), so the two never show
different things to the same principal.
"""

from __future__ import annotations

from collections import Counter
from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Depends, Query, Request
from pydantic import ValidationError
from sqlalchemy.engine import Connection
from starlette.concurrency import run_in_threadpool
from starlette.responses import RedirectResponse, Response

from steward.audit.log import AuditFilter, list_records, record_change
from steward.catalog.edits import DatasetEdit, OwnerSpec, can_edit, edit_dataset
from steward.catalog.neighbour_counts import neighbour_counts
from steward.catalog.search import SearchFilters, search
from steward.catalog.views import dataset_page, describe_datasets
from steward.errors import Forbidden, InvalidInput
from steward.identity.sessions import WebSession
from steward.lineage.scope import Hidden
from steward.policy.sight import PolicySight, sight_for
from steward.quality.history import latest
from steward.quality.openlineage import assertion_checks, dataset_quality_view
from steward.schema.deprecations import by_catalog_name, deprecations, shown_with
from steward.schema.history import capture, dataset_id_of, history
from steward.store import Store
from steward.web.auth import CSRF_FIELD, check_csrf, form_of, signed_in, steward_of
from steward.web.render import page

router = APIRouter(include_in_schema=False)

TABS = (
    ("schema", "Schema"),
    ("quality", "Quality"),
    ("history", "Schema history"),
    ("usage", "Usage"),
    ("properties", "Properties"),
    ("lineage", "Lineage"),
)
RESULTS = 25
FAILING = {"fail", "failed", "error", "warn"}
USAGE_RECORDS = 5000


def _pii(view: dict[str, Any]) -> bool:
    tags = [t["tag"] for t in view["tags"]]
    tags += [t["tag"] for c in view["columns"] for t in c["tags"]]
    return any(tag.startswith("pii") for tag in tags)


def quality_status(checks: list[dict[str, Any]]) -> str | None:
    """One word for a dataset's checks: failing if any latest result fails, else passing."""
    if not checks:
        return None
    statuses = {str(c.get("status", "")).lower() for c in checks}
    return "failing" if statuses & FAILING else "passing"


def _search(
    store: Store, session: WebSession, q: str, filters: SearchFilters
) -> list[dict[str, Any]]:
    """Results as `GET /api/v1/catalog/search` ranks them, each with what its card shows.

    The cards read the datasets in one batch (`describe_datasets`), as the policy lets
    the principal see them: denied columns do not count towards PII, hidden lineage
    (other users' queries) not towards the neighbour counts.
    """
    sight = sight_for(store, session.principal)
    only = None
    if sight is not None:
        with store.read() as conn:
            only = sight.describable(conn)
    found = search(store, q, filters=filters, limit=RESULTS, only=only)
    cards = []
    with store.read() as conn:
        ids = {r["name"]: dataset_id_of(conn, r["name"]) for r in found}
        hidden = sight.hidden(conn) if sight is not None else Hidden()
        withheld = sight.withheld(conn, list(ids.values())) if sight is not None else {}
        views = describe_datasets(conn, list(ids.values()))
        marks = by_catalog_name(conn, [r["name"] for r in found])
        near = neighbour_counts(conn, list(ids.values()), hidden)
        for result in found:
            dataset_id = ids[result["name"]]
            if sight is not None and withheld[dataset_id] is None:
                continue  # no longer describable since the search ran
            view = views[dataset_id]
            denied = withheld.get(dataset_id) or frozenset()
            view["columns"] = [c for c in view["columns"] if c["name"] not in denied]
            access = (
                None if sight is None or view["name"] is None else sight.access(conn, view["name"])
            )
            checks = latest(conn, view["id"], access=access)
            checks += assertion_checks(conn, dataset_id, access=access)
            own = [d for d in marks.get(result["name"], []) if d.column is None]
            cards.append(
                {
                    **result,
                    "ref": view["id"],
                    "owners": view["owners"],
                    "tags": sorted({t["tag"] for t in view["tags"]}),
                    "pii": _pii(view),
                    "quality": quality_status(checks),
                    "upstream": near[dataset_id].upstream,
                    "downstream": near[dataset_id].downstream,
                    "deprecated": own[0] if own else None,
                }
            )
    return cards


def _facets(cards: list[dict[str, Any]]) -> dict[str, list[tuple[str, int]]]:
    counts: dict[str, Counter[str]] = {k: Counter() for k in ("source", "tag", "owner", "domain")}
    counts["pii"] = Counter()
    for card in cards:
        if card["source"]:
            counts["source"][card["source"]] += 1
        if card["domain"]:
            counts["domain"][card["domain"]] += 1
        counts["tag"].update(card["tags"])
        counts["owner"].update({o["name"] for o in card["owners"]})
        counts["pii"]["yes" if card["pii"] else "no"] += 1
    return {k: sorted(c.items(), key=lambda kv: (-kv[1], kv[0])) for k, c in counts.items()}


@router.get("/")
def get_search(
    request: Request,
    session: Annotated[WebSession, Depends(signed_in)],
    q: Annotated[str, Query(max_length=500)] = "",
    source: Annotated[str | None, Query(max_length=500)] = None,
    tag: Annotated[str | None, Query(max_length=500)] = None,
    owner: Annotated[str | None, Query(max_length=500)] = None,
    domain: Annotated[str | None, Query(max_length=500)] = None,
    pii: Annotated[str | None, Query(pattern="^(yes|no)$")] = None,
) -> Response:
    """One search box, ranked results and facets to narrow them."""
    store = steward_of(request).store
    filters = SearchFilters(
        source=source or None, tag=tag or None, owner=owner or None, domain=domain or None
    )
    problem = None
    try:
        cards = _search(store, session, q, filters)
    except InvalidInput as exc:  # a query of punctuation only: say so beside the box
        cards, problem = [], exc.message
    if pii:
        # The search index has no PII column: the facet narrows the ranked page.
        cards = [c for c in cards if c["pii"] == (pii == "yes")]
    chosen = {"q": q, "source": source, "tag": tag, "owner": owner, "domain": domain, "pii": pii}

    def link(**change: str | None) -> str:
        params = {k: v for k, v in {**chosen, **change}.items() if v}
        return "/?" + urlencode(params) if params else "/"

    return page(
        request,
        "search.html",
        {
            "q": q,
            "cards": cards,
            "facets": _facets(cards),
            "chosen": chosen,
            "link": link,
            "problem": problem,
        },
        session=session,
        title="Search" if not q else f"{q} · Search",
    )


def _dataset(conn: Connection, ref: str, sight: PolicySight | None) -> dict[str, Any]:
    """A dataset as `GET /api/v1/datasets/{ref}` shows it to this principal."""
    view = dataset_page(conn, ref, sight)
    access = None if sight is None or view["name"] is None else sight.access(conn, view["name"])
    dataset_id = dataset_id_of(conn, ref)
    view.update(dataset_quality_view(conn, view["id"], dataset_id, access=access))
    found = deprecations(conn, [dataset_id])[dataset_id]
    view["deprecations"] = shown_with(found, [c["name"] for c in view["columns"]])
    view["masks"] = {
        c.name: c.mask or "masked"
        for c in (access.columns if access is not None else ())
        if c.verdict == "masked"
    }
    view["dataset_id"] = dataset_id
    view["withheld"] = (
        frozenset() if sight is None else sight.withheld(conn, [dataset_id])[dataset_id]
    )
    return view


def _history(conn: Connection, view: dict[str, Any]) -> list[Any]:
    """Schema versions, newest first, without the columns the principal may not see."""
    withheld = {c.lower() for c in view["withheld"] or ()}
    capture(conn, [view["dataset_id"]])
    shown = []
    for entry in reversed(history(conn, view["dataset_id"])):
        changes = [
            c
            for c in entry.changes or []
            if c.path.split(".", 1)[0].lower() not in withheld
            and (c.old or "").lower() not in withheld
        ]
        fields = [f for f in entry.version.fields if f.name.lower() not in withheld]
        shown.append({"version": entry.version, "fields": fields, "changes": changes,
                      "first": entry.changes is None})  # fmt: skip
    return shown


def _usage(conn: Connection, view: dict[str, Any]) -> list[dict[str, Any]]:
    """Who queried the dataset, how often and when last, from the audit log."""
    name = view["name"] or view["nodeId"]
    records = list_records(conn, AuditFilter(dataset=name, action="query"), limit=USAGE_RECORDS)
    by_user: dict[str, dict[str, Any]] = {}
    for record in records:  # newest first
        user = record.user or "(unknown)"
        seen = by_user.setdefault(user, {"user": user, "queries": 0, "last": record.time})
        seen["queries"] += 1
    return sorted(by_user.values(), key=lambda u: (-u["queries"], u["user"]))


@router.get("/datasets/{ref:path}")
def get_dataset(
    request: Request,
    ref: str,
    session: Annotated[WebSession, Depends(signed_in)],
    tab: Annotated[str, Query(max_length=20)] = "schema",
) -> Response:
    """One dataset, tab by tab; owners and admins may edit its description, owners and tags."""
    if tab not in dict(TABS):
        raise InvalidInput(f"tab: {tab!r} is not one of {', '.join(k for k, _ in TABS)}")
    store = steward_of(request).store
    principal = session.principal
    sight = sight_for(store, principal)
    extra: dict[str, Any] = {}
    with store.write() if tab == "history" else store.read() as conn:
        view = _dataset(conn, ref, sight)
        editable = can_edit(view, principal)
        usage_allowed = principal.is_admin or editable
        if tab == "history":
            extra["versions"] = _history(conn, view)
        elif tab == "usage" and usage_allowed:
            extra["usage"] = _usage(conn, view)
    return page(
        request,
        "dataset.html",
        {
            "ref": ref,
            "view": view,
            "tab": tab,
            "tabs": TABS,
            "editable": editable,
            "usage_allowed": usage_allowed,
            "saved": request.query_params.get("saved") == "1",
            **extra,
        },
        session=session,
        title=view["name"] or view["nodeId"],
    )


def _words(text: str) -> list[str]:
    return [w.strip() for w in text.replace("\n", ",").split(",") if w.strip()]


def edit_of(form: dict[str, str], view: dict[str, Any]) -> DatasetEdit:
    """The edit a dataset page's form asks for: the fields as the page showed them, changed."""
    description = form.get("description", "").strip()
    old_description = ((view["description"] or {}).get("text") or "").strip()
    tags = set(_words(form.get("tags", "")))
    old_tags = {t["tag"] for t in view["tags"]}
    owners = set(_words(form.get("owners", "")))
    old_owners = {o["name"] for o in view["owners"] if o["kind"] == "user"}
    try:
        return DatasetEdit(
            description=description if description != old_description else None,
            addTags=sorted(tags - old_tags),
            removeTags=sorted(old_tags - tags),
            addOwners=[OwnerSpec(name=n) for n in sorted(owners - old_owners)],
            removeOwners=[OwnerSpec(name=n) for n in sorted(old_owners - owners)],
        )
    except ValidationError as exc:
        problem = exc.errors()[0]
        where = ".".join(str(p) for p in problem["loc"]) or "form"
        raise InvalidInput(f"{where}: {problem['msg']}") from None


@router.post("/datasets/{ref:path}")
async def post_dataset(
    request: Request, ref: str, session: Annotated[WebSession, Depends(signed_in)]
) -> Response:
    """Save the inline edit of description, owners and tags (`PATCH /api/v1/datasets/{ref}`)."""
    form = await form_of(request)
    check_csrf(session, form.get(CSRF_FIELD))
    store = steward_of(request).store
    principal = session.principal

    def save() -> None:
        sight = sight_for(store, principal)
        with store.read() as conn:
            view = dataset_page(conn, ref, sight)
        if not can_edit(view, principal):
            raise Forbidden(f"dataset {ref}: only its owners and admins may edit it")
        edit_dataset(store, ref, edit_of(form, view), principal, record=record_change)

    await run_in_threadpool(save)
    return RedirectResponse(f"/datasets/{quote(ref, safe='/:@.')}?saved=1", status_code=303)
