"""Input rules shared by every write path (REST and WebSocket reach the same checks)."""

from __future__ import annotations

from typing import Any

from parley import users
from parley.common.errors import InvalidInput
from parley.conf import parley_settings


def _reject_control(text: str, field: str) -> None:
    # PostgreSQL cannot store NUL in text; refuse it everywhere so both databases agree.
    if "\x00" in text:
        raise InvalidInput("Null characters are not allowed.", field=field, code="invalid_characters")


def clean_content(content: Any, *, allow_empty: bool) -> str:
    if content is None:
        content = ""
    if not isinstance(content, str):
        raise InvalidInput("Content must be a string.", field="content", code="invalid_type")
    _reject_control(content, "content")
    if len(content) > parley_settings.MAX_CONTENT_LENGTH:
        raise InvalidInput(
            f"Content is longer than {parley_settings.MAX_CONTENT_LENGTH} characters.",
            field="content",
            code="content_too_long",
        )
    if not content.strip():
        if not allow_empty:
            raise InvalidInput("Provide content or an attachment.", field="content", code="empty_message")
        return ""
    return content


def clean_client_id(client_id: Any) -> str | None:
    if client_id is None or client_id == "":
        return None
    if not isinstance(client_id, str) or len(client_id) > 64 or not client_id.isprintable():
        raise InvalidInput("client_id must be a printable string of at most 64 characters.", field="client_id")
    return client_id


def clean_title(title: Any) -> str:
    if title is None:
        return ""
    if not isinstance(title, str):
        raise InvalidInput("Title must be a string.", field="title", code="invalid_type")
    _reject_control(title, "title")
    title = title.strip()
    if len(title) > parley_settings.MAX_TITLE_LENGTH:
        raise InvalidInput(
            f"Title is longer than {parley_settings.MAX_TITLE_LENGTH} characters.", field="title", code="title_too_long"
        )
    return title


def clean_id(value: Any, *, field: str) -> int:
    """A positive database id from JSON or a form (bools and floats refused)."""
    if isinstance(value, bool):
        raise InvalidInput("Must be an integer id.", field=field, code="invalid_id")
    if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
        value = int(value.strip())
    if not isinstance(value, int) or value <= 0 or value > 2**63 - 1:
        raise InvalidInput("Must be a positive integer id.", field=field, code="invalid_id")
    return value


def clean_user_id(value: Any, *, field: str) -> Any:
    """A user id of the host's user model: a positive integer, or a UUID (or another key
    type) in its text form."""
    if users.pk_is_integer():
        return clean_id(value, field=field)
    return users.parse_user_id(value, field=field)


def clean_user_id_list(values: Any, *, field: str) -> list[Any]:
    if not isinstance(values, list | tuple):
        raise InvalidInput("Must be a list of user ids.", field=field, code="invalid_id")
    ids = [clean_user_id(v, field=field) for v in values]
    return list(dict.fromkeys(ids))
