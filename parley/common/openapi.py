"""OpenAPI: every operation documents the errors it can really answer with.

drf-spectacular documents what a view's decorators name; the errors that come from
the layers around a view (authentication, the body limit, a database outage, the
exception handler's 400s) are added here, one rule per status:

    400  the operation takes a body or query parameters (malformed input)
    401  the operation authenticates its caller (or checks a token it is given)
    403  a chat operation on a conversation or message (not a participant, not the sender)
    404  the URL names an object (no such object); message lists (a page past the end)
    413  the operation takes a body (the request size limit)
    429  the operation is rate limited
    503  every operation (the database is unreachable)

Views opt in with `schema = ErrorDocumentingSchema()`; tests run schemathesis against
the result (tests/test_schemathesis.py), so the schema stays honest.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.openapi import AutoSchema

ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "`detail` and a stable `code`, or DRF's field errors (`{field: [messages]}`) and a `code`.",
    "properties": {
        "detail": {"type": "string"},
        "code": {"type": "string"},
        "retry_after": {"type": "integer", "description": "Seconds to wait (429 only)."},
    },
    "additionalProperties": True,
}

DESCRIPTIONS = {
    "400": "Malformed input; `code` names the rule",
    "401": "Missing, invalid or expired token, or an ended session",
    "403": "Not a participant, not the sender, or not an admin",
    "404": "No such object (or not visible to the caller)",
    "413": "The request is over the upload limit",
    "429": "Rate limited; see the Retry-After header",
    "503": "The database is unavailable; retry (Retry-After header)",
}

# Operations that check a token they are given instead of authenticating the caller.
TOKEN_CHECKING = {"/api/auth/login/", "/api/auth/refresh/", "/api/auth/refresh-token/", "/api/auth/logout/"}
RATE_LIMITED = {"/api/auth/login/", "/api/auth/register/"}


class ErrorDocumentingSchema(AutoSchema):
    def _is_list_view(self, serializer: Any = None) -> bool:
        # A `list` action answering with one envelope object (`is_envelope = True` on
        # its serializer, e.g. a page of messages) is not a JSON array.
        candidate = serializer if serializer is not None else self.get_response_serializers()
        if getattr(candidate, "is_envelope", False):
            return False
        return super()._is_list_view(serializer)

    def get_operation(self, *args: Any, **kwargs: Any) -> dict[str, Any] | None:
        operation = super().get_operation(*args, **kwargs)
        if operation is None:
            return None
        responses: dict[str, Any] = operation.setdefault("responses", {})
        for code in self._error_codes(operation):
            existing = responses.get(code)
            if existing is None or "content" not in existing:
                description = (existing or {}).get("description") or DESCRIPTIONS[code]
                responses[code] = {
                    "description": description,
                    "content": {"application/json": {"schema": ERROR_SCHEMA}},
                }
        return operation

    def _error_codes(self, operation: dict[str, Any]) -> list[str]:
        path = self.path
        codes = {"503"}
        has_body = "requestBody" in operation or self.method in ("POST", "PUT", "PATCH")
        has_query = any(p.get("in") == "query" for p in operation.get("parameters", []))
        if has_body or has_query:
            codes.add("400")
        if has_body:
            codes.add("413")
        if any(requirement for requirement in self.get_auth()) or path in TOKEN_CHECKING:
            codes.add("401")
        if "{" in path:
            codes.add("404")
            if path.startswith("/api/chat/"):
                codes.add("403")
        if path.endswith("/messages/"):
            codes.add("404")  # a page past the end
        if path in RATE_LIMITED:
            codes.add("429")
        return sorted(codes)
