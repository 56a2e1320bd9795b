"""Reports of messages and what moderators do about them (SPEC 11).

A participant reports a message (`report_create`); a moderator (the `parley.moderate`
permission, in the admin's report queue) resolves the report with one action:

    report_delete_message   the message erased for everyone (`message.deleted`)
    report_remove_member    its sender removed from the group (`member.removed`,
                            their sockets unsubscribed)
    report_deactivate_user  its sender deactivated (their sockets closed, 4401)
    report_dismiss          nothing changes in chat

Each action goes through the same locked, numbered writes as the API, so every change
publishes its event; it then resolves every open report of the same message.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.utils import timezone

from parley import access
from parley.common.errors import Forbidden, InvalidInput, NotFound
from parley.models import Conversation, Message, Report
from parley.services.members import member_remove_locked
from parley.services.messages import message_erase_locked
from parley.services.sequencing import conversation_write
from parley.users import User

MAX_REASON_LENGTH = 1000
MODERATE_PERMISSION = "parley.moderate"


def clean_reason(reason: object) -> str:
    if not isinstance(reason, str) or not reason.strip():
        raise InvalidInput("Say why you report this message.", field="reason", code="required")
    if "\x00" in reason:
        raise InvalidInput("Null characters are not allowed.", field="reason", code="invalid_characters")
    reason = reason.strip()
    if len(reason) > MAX_REASON_LENGTH:
        raise InvalidInput(
            f"A reason is at most {MAX_REASON_LENGTH} characters.", field="reason", code="reason_too_long"
        )
    return reason


def report_create(*, reporter: User, message_id: int, reason: object) -> tuple[Report, bool]:
    """A participant's report of a live message of someone else: `(report, created)`;
    reporting the same message again returns the first report."""
    clean = clean_reason(reason)
    message = access.message_get_for_member(user=reporter, message_id=message_id)
    if message.sender_id == reporter.pk:
        raise InvalidInput("You cannot report your own message.", code="own_message")
    existing = Report.objects.filter(message=message, reporter=reporter).first()
    if existing is not None:
        return existing, False
    try:
        with transaction.atomic():
            report = Report.objects.create(
                message=message,
                conversation_id_reported=message.conversation_id,
                reporter=reporter,
                reported_user_id=message.sender_id,
                reason=clean,
            )
    except IntegrityError:  # the same report, sent twice at once
        return Report.objects.get(message=message, reporter=reporter), False
    return report, True


def _require_moderator(moderator: User) -> None:
    if not moderator.has_perm(MODERATE_PERMISSION):
        raise Forbidden("Only moderators may do that.", code="not_moderator")


def _resolve(report: Report, *, moderator: User, resolution: str) -> None:
    """Close this report and every other open one of the same message."""
    now = timezone.now()
    fields: dict[str, Any] = {
        "status": Report.Status.DISMISSED if resolution == "dismissed" else Report.Status.ACTIONED,
        "resolved_at": now,
        "resolved_by": moderator,
        "resolution": resolution,
    }
    same = Report.objects.filter(pk=report.pk)
    if report.message_id is not None and resolution != "dismissed":
        same = Report.objects.filter(message_id=report.message_id, status=Report.Status.OPEN) | same
    same.update(**fields)


def _reported_message(report: Report) -> Message:
    message = Message.objects.filter(pk=report.message_id, is_deleted=False).first() if report.message_id else None
    if message is None:
        raise NotFound("The reported message no longer exists.", code="message_gone")
    return message


def report_delete_message(*, moderator: User, report: Report) -> None:
    """Erase the reported message for everyone: `message.deleted`, its file removed."""
    _require_moderator(moderator)
    message = _reported_message(report)
    with conversation_write(message.conversation_id) as write:
        locked = Message.objects.select_for_update().filter(pk=message.pk, is_deleted=False).first()
        if locked is None:
            raise NotFound("The reported message no longer exists.", code="message_gone")
        message_erase_locked(write, locked, actor_id=moderator.pk)
        _resolve(report, moderator=moderator, resolution="message_deleted")


def report_remove_member(*, moderator: User, report: Report) -> None:
    """Remove the reported message's sender from its group: `member.removed`, and
    their sockets stop receiving the group."""
    _require_moderator(moderator)
    message = _reported_message(report)
    if message.sender_id is None:
        raise NotFound("The sender's account no longer exists.", code="unknown_user")
    with conversation_write(message.conversation_id) as write:
        if write.conversation.kind != Conversation.Kind.GROUP:
            raise InvalidInput("Members are removed from groups only; deactivate the user instead.", code="not_a_group")
        member_remove_locked(write, target_id=message.sender_id, actor_id=moderator.pk, reason="removed")
        _resolve(report, moderator=moderator, resolution="member_removed")


def report_deactivate_user(*, moderator: User, report: Report) -> None:
    """Deactivate the reported message's sender: they can no longer sign in or call
    the API, and their open sockets close (parley.signals)."""
    _require_moderator(moderator)
    if report.reported_user_id is None:
        raise NotFound("The sender's account no longer exists.", code="unknown_user")
    user = get_user_model()._default_manager.filter(pk=report.reported_user_id).first()
    if user is None:
        raise NotFound("The sender's account no longer exists.", code="unknown_user")
    with transaction.atomic():
        if user.is_active:
            user.is_active = False
            user.save(update_fields=["is_active"])  # parley.signals closes their sockets after commit
        _resolve(report, moderator=moderator, resolution="user_deactivated")


def report_dismiss(*, moderator: User, report: Report) -> None:
    """Close the report without changing anything in chat."""
    _require_moderator(moderator)
    _resolve(report, moderator=moderator, resolution="dismissed")
