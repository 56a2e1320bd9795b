"""The two ways to page through messages, with one response envelope.

Page mode (the seed's): `?page=&page_size=` -> `{count, next, previous, results}`,
oldest first, `page_size` default 50 and capped at 500 (a larger value is lowered).

Keyset mode (for chat clients): any of `?before=<id>`, `?after=<id>`, `?limit=` ->
the same envelope with `count: null`; `previous` pages back in time and `next`
forward. It never counts, so every page costs the same at any depth.
"""

from __future__ import annotations

from typing import Any

from rest_framework.request import Request
from rest_framework.utils.urls import remove_query_param, replace_query_param

from parley.api.params import query_int
from parley.common.errors import InvalidInput, NotFound
from parley.conf import parley_settings
from parley.selectors.messages import MessageSource

KEYSET_PARAMS = ("before", "after", "limit")


def _url(request: Request, *, drop: tuple[str, ...] = (), **params: Any) -> str:
    url = request.build_absolute_uri()
    for key in drop:
        url = remove_query_param(url, key)
    for key, value in params.items():
        url = replace_query_param(url, key, value)
    return url


def message_page_response(request: Request, messages: MessageSource) -> dict[str, Any]:
    """A page of `messages` (each as its source's reader sees it), by the request's
    page or keyset parameters."""
    cap = parley_settings.MAX_PAGE_SIZE
    if any(p in request.query_params for p in KEYSET_PARAMS):
        if "page" in request.query_params:
            raise InvalidInput("Use either 'page' or 'before'/'after'/'limit', not both.", code="invalid_parameter")
        before = query_int(request, "before")
        after = query_int(request, "after", minimum=0)
        if before is not None and after is not None:
            raise InvalidInput("Use 'before' or 'after', not both.", code="invalid_parameter")
        limit = query_int(request, "limit", default=parley_settings.DEFAULT_PAGE_SIZE, cap=cap) or 1
        page = messages.keyset_page(before=before, after=after, limit=limit)
        results = page.results
        older = _url(request, drop=("after",), before=results[0]["id"]) if page.has_older and results else None
        if page.has_newer and results:
            newer: str | None = _url(request, drop=("before",), after=results[-1]["id"])
        elif page.has_newer and before is not None:
            newer = _url(request, drop=("before",), after=before - 1)
        else:
            newer = None
        return {"count": None, "next": newer, "previous": older, "results": results}

    number = query_int(request, "page", default=1) or 1
    size = query_int(request, "page_size", default=parley_settings.DEFAULT_PAGE_SIZE, cap=cap) or 1
    count = messages.count()
    if number > 1 and (number - 1) * size >= count:
        raise NotFound("Invalid page: past the last page.", code="invalid_page")
    results = messages.offset_page(offset=(number - 1) * size, limit=size)
    has_next = number * size < count
    return {
        "count": count,
        "next": _url(request, page=number + 1) if has_next else None,
        "previous": _url(request, page=number - 1) if number > 1 else None,
        "results": results,
    }
