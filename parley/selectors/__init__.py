"""Every read of the chat, with an explicit query shape.

Lists cost a constant number of queries whatever their length (tests/test_queries.py):

    messages        live messages, what a member sees, pages of a queryset (keyset or offset)
    history         a conversation's history page: one fixed SQL statement with its parts
    conversations   the list (four queries a page), one member's or each member's view
    replay          durable events after a seq, rendered as their frames
    message_features  a thread, pins, the caller's mentions, edit history (SPEC 10)
    sockets         what an open socket needs: its memberships, cursors, co-members, names

Rows are read with `.values()` and turned into JSON by parley.representations.
"""

from parley.selectors.conversations import (
    CONVERSATION_COLUMNS,
    ConversationCursor,
    ConversationPage,
    conversation_json_for_members,
    conversation_json_for_user,
    conversation_list_for_user,
)
from parley.selectors.history import ConversationHistory
from parley.selectors.message_features import (
    edit_history_json,
    mentions_page,
    pins_json,
    thread_replies,
)
from parley.selectors.messages import (
    KeysetPage,
    MessageSource,
    QuerySetMessages,
    live_messages,
    message_json_by_id,
    message_keyset_page,
    message_offset_page,
    messages_visible_to,
)
from parley.selectors.replay import EventPage, events_after
from parley.selectors.sockets import (
    co_members,
    conversation_last_seqs,
    display_names_by_wire_id,
    member_conversation_seqs,
    memberships_with_size,
    message_senders,
    small_conversations_of,
)

__all__ = [
    "CONVERSATION_COLUMNS",
    "ConversationCursor",
    "ConversationHistory",
    "ConversationPage",
    "EventPage",
    "KeysetPage",
    "MessageSource",
    "QuerySetMessages",
    "co_members",
    "conversation_json_for_members",
    "conversation_json_for_user",
    "conversation_last_seqs",
    "conversation_list_for_user",
    "display_names_by_wire_id",
    "edit_history_json",
    "events_after",
    "live_messages",
    "member_conversation_seqs",
    "memberships_with_size",
    "mentions_page",
    "message_json_by_id",
    "message_keyset_page",
    "message_offset_page",
    "message_senders",
    "messages_visible_to",
    "pins_json",
    "small_conversations_of",
    "thread_replies",
]
