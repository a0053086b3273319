"""The site's own URL paths, defined once: ``/-/compare``, ``/-/compare/<indicator>``,
``/-/clause/<clause>``.

Root-relative paths (the web layer prefixes Datasette's ``base_url``). Used by the views
kb.db stores (``clause_url``, ``compare_url`` columns, see :mod:`extractor.kb.fts`), the
plugin's routes and pages, the ``policykb_clause_url`` SQL function and the templates. A leaf
module: no imports from the rest of the package.
"""

from __future__ import annotations

from urllib.parse import quote

COMPARE = "/-/compare"
CLAUSE = "/-/clause"
SEARCH = "/-/search"  # one search over clauses and targets, facets in Chinese
COVERAGE = "/-/coverage"  # indicator x district matrix
DISTRICT = "/-/district"  # /-/district/<district>: its documents, campaigns, targets
AMBITION = "/-/ambition"  # /-/ambition/<indicator>: districts' targets ranked by ambition
DIFF = "/-/diff"  # ?a=<document>&b=<document>: plan-to-plan change of one district's targets
UNITS = "/-/units"  # ?district=: units x campaigns (lead / partner), each task's deadline
DIFFUSION = "/-/diffusion"  # measure clusters across districts (policy diffusion)

# register_routes patterns (Datasette matches them against the path without base_url)
COMPARE_INDEX_PATTERN = rf"^{COMPARE}/?$"
COMPARE_PATTERN = rf"^{COMPARE}/(?P<indicator_id>[^/]+)$"
CLAUSE_PATTERN = rf"^{CLAUSE}/(?P<clause_id>[^/]+)$"
SEARCH_PATTERN = rf"^{SEARCH}/?$"
COVERAGE_PATTERN = rf"^{COVERAGE}/?$"
DISTRICT_INDEX_PATTERN = rf"^{DISTRICT}/?$"
DISTRICT_PATTERN = rf"^{DISTRICT}/(?P<district>[^/]+)$"
AMBITION_PATTERN = rf"^{AMBITION}/(?P<indicator_id>[^/]+)$"
DIFF_PATTERN = rf"^{DIFF}/?$"
UNITS_PATTERN = rf"^{UNITS}/?$"
DIFFUSION_PATTERN = rf"^{DIFFUSION}/?$"


def compare_url(indicator_id: str, district: str | None = None) -> str:
    """Root-relative link to an indicator's comparison page (``?district=`` narrows it to one
    district's values over time)."""
    url = f"{COMPARE}/" + quote(indicator_id)
    return url + ("?district=" + quote(district) if district else "")


def ambition_url(indicator_id: str) -> str:
    """Root-relative link to an indicator's ranking of targets by ambition."""
    return f"{AMBITION}/" + quote(indicator_id)


def district_url(district: str) -> str:
    """Root-relative link to a district's page."""
    return f"{DISTRICT}/" + quote(district)


def diff_url(doc_a: str, doc_b: str) -> str:
    """Root-relative link to the plan-to-plan change of two documents."""
    return f"{DIFF}?a={quote(doc_a)}&b={quote(doc_b)}"


def units_url(district: str | None = None, **filters: str | None) -> str:
    """Root-relative link to the units page (``?district=&unit=&campaign=&role=``)."""
    params = [("district", district), *filters.items()]
    query = "&".join(f"{k}={quote(str(v))}" for k, v in params if v)
    return UNITS + ("?" + query if query else "")


def search_url(q: str | None = None, **facets: str) -> str:
    """Root-relative link to the search page, with a query and facet filters."""
    params = [("q", q)] if q else []
    params += [(k, v) for k, v in facets.items() if v]
    return SEARCH + ("?" + "&".join(f"{k}={quote(str(v))}" for k, v in params) if params else "")


def clause_url(clause_id: str | None, target_id: str | None = None, q: str | None = None) -> str | None:
    """Root-relative link to a clause page (``/-/clause/<id>?target=...&q=...``), URL-encoded."""
    if not clause_id:
        return None
    url = f"{CLAUSE}/" + quote(clause_id, safe=":")
    params = [f"target={quote(target_id, safe=':')}"] if target_id else []
    if q:
        params.append("q=" + quote(q))
    return url + ("?" + "&".join(params) if params else "")


def sql_clause_url(clause_id: str, target_id: str | None = None) -> str:
    """SQL for the ``clause_url`` column of a view (ids are not URL-encoded, as always)."""
    url = f"'{CLAUSE}/' || {clause_id}"
    return url + (f" || '?target=' || {target_id}" if target_id else "")


def sql_compare_url(indicator_id: str) -> str:
    """SQL for the ``compare_url`` column of a view."""
    return f"'{COMPARE}/' || {indicator_id}"
