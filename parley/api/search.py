"""`GET /api/chat/search/`: the caller's live messages holding every word of `q`."""

from __future__ import annotations

import math
import re

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param

from parley.api.base import ParleyView, current_user
from parley.api.conversations import int_param
from parley.api.params import query_int
from parley.api.serializers import MessageOut
from parley.common.errors import InvalidInput
from parley.searchtext import MAX_QUERY_LENGTH, search_terms
from parley.selectors.search import SearchCursor, message_search

DEFAULT_LIMIT = 20
MAX_LIMIT = 50
# `<rank>~<message id>~<window edge>`: the last hit of the page before, opaque to clients.
CURSOR = re.compile(r"([0-9eE.+-]{1,32})~([0-9]{1,18})~([0-9]{1,18})")


class SearchHitOut(serializers.Serializer):
    message = MessageOut()
    conversation = serializers.IntegerField()
    snippet = serializers.CharField(help_text="HTML-escaped text around the match, each matched word in <mark>.")


class SearchPageOut(serializers.Serializer):
    is_envelope = True

    results = SearchHitOut(many=True, help_text="Best match first.")
    next = serializers.URLField(allow_null=True, help_text="The next page, or null after the last.")


def search_cursor(request: Request) -> SearchCursor | None:
    raw = request.query_params.get("cursor")
    if not raw:
        return None
    match = CURSOR.fullmatch(raw)
    rank = None
    if match is not None:
        try:
            rank = float(match[1])
        except ValueError:
            rank = None
    if match is None or rank is None or not math.isfinite(rank):
        raise InvalidInput("'cursor' is not a cursor from this API.", field="cursor", code="invalid_parameter")
    return SearchCursor(rank=rank, id=int(match[2]), edge=int(match[3]))


class SearchView(ParleyView):
    @extend_schema(
        operation_id="chat_search",
        parameters=[
            OpenApiParameter(
                "q",
                str,
                required=True,
                description=f"Words to find, 1..{MAX_QUERY_LENGTH} characters; every word must occur. "
                "Search syntax (quotes, *, -, ^, :, parentheses, AND/OR/NOT/NEAR) is ignored.",
            ),
            int_param("conversation", "Only this conversation (404 unless you are a member)."),
            int_param("limit", f"Hits per page, default {DEFAULT_LIMIT}, capped at {MAX_LIMIT}."),
            OpenApiParameter("cursor", str, description="From `next`: the page after it."),
        ],
        responses={
            200: SearchPageOut,
            400: OpenApiResponse(description="`query_invalid` or `invalid_parameter`"),
            404: OpenApiResponse(description="`conversation` is not one of yours"),
        },
        tags=["messages"],
    )
    def get(self, request: Request) -> Response:
        """Search the live messages of your conversations: best match first, keyset-paginated."""
        user = current_user(request)
        terms = search_terms(request.query_params.get("q"))
        conversation_id = query_int(request, "conversation")
        limit = query_int(request, "limit", default=DEFAULT_LIMIT, cap=MAX_LIMIT) or DEFAULT_LIMIT
        page = message_search(
            user_id=user.pk,
            terms=terms,
            conversation_id=conversation_id,
            after=search_cursor(request),
            limit=limit,
        )
        next_url = None
        if page.next is not None:
            next_url = replace_query_param(
                request.build_absolute_uri(), "cursor", f"{page.next.rank!r}~{page.next.id}~{page.next.edge}"
            )
        results = [{"message": h.message, "conversation": h.conversation, "snippet": h.snippet} for h in page.hits]
        return Response({"results": results, "next": next_url})
